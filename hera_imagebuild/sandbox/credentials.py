"""Test credentials and the docker ``config.json`` files that carry them."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Credentials", "write_docker_config"]


@dataclass(frozen=True)
class Credentials:
    """A registry user name and password; the password never appears in ``repr``."""

    username: str
    password: str = field(repr=False)

    @property
    def auth(self) -> str:
        """``base64("user:pass")``, the ``auth`` value of a docker config entry."""
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")


def write_docker_config(path: Path, auths: Mapping[str, Credentials]) -> Path:
    """Write a docker ``config.json`` with one ``auths`` entry per registry host.

    Args:
        path: The file to write, or a directory to write ``config.json`` into
            (the layout ``DOCKER_CONFIG`` expects).
        auths: Registry host (``127.0.0.1:5000``) -> credentials.

    Returns:
        The path of the written file (mode 0600).
    """
    if path.is_dir():
        path = path / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"auths": {host: {"auth": creds.auth} for host, creds in auths.items()}}
    path.write_text(json.dumps(document, indent=2) + "\n")
    path.chmod(0o600)
    return path
