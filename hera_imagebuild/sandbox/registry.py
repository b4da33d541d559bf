"""Real OCI registries on loopback: Debian's ``docker-registry`` (distribution 2.8) with our own config.

Each :class:`Registry` is one ``docker-registry serve CONFIG`` process. We
always write the config ourselves (Debian's default is unusable): storage in a
private directory, ``http.addr: 127.0.0.1:0`` so the kernel picks a free port,
and the port read back from the ``listening on`` log line. The config is JSON,
which the registry's YAML parser reads as-is.

Variants, combinable: TLS (:mod:`.tls`), htpasswd basic auth (bcrypt, made
with ``htpasswd -Bbn``), bearer-token auth (``auth: token`` pointing at a
:class:`~hera_imagebuild.sandbox.tokens.TokenIssuer`), and pull-through cache
(``proxy: remoteurl``, optionally with upstream credentials).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hera_imagebuild.sandbox.credentials import Credentials
from hera_imagebuild.sandbox.process import Running, SandboxError, require_binary, run_checked, stop_process
from hera_imagebuild.sandbox.tls import TLSFiles

__all__ = ["Registry", "TokenAuth", "start_registry"]

_LISTENING = re.compile(rb"listening on (?:\[?[0-9a-fA-F:.]*\]?):(\d+)")


@dataclass(frozen=True)
class TokenAuth:
    """What a registry needs to trust a token issuer (distribution's ``auth: token`` section)."""

    realm: str
    service: str
    issuer: str
    root_cert_bundle: Path
    users: dict[str, Credentials] = field(default_factory=dict)
    """The issuer's users (they become the registry's ``users``)."""


class Registry(Running):
    """A running ``docker-registry`` process on 127.0.0.1.

    Use :func:`start_registry` to create one; stop it with :meth:`stop` or a ``with`` block.
    """

    def __init__(
        self,
        *,
        process: subprocess.Popen[bytes],
        port: int,
        workdir: Path,
        tls: TLSFiles | None,
        users: dict[str, Credentials],
        name: str,
    ) -> None:
        self._process = process
        self.port = port
        self.workdir = workdir
        self.tls = tls
        self.users = users
        """Who may log in (htpasswd or token users), in the order given: the first is the default pusher."""
        self.name = name
        self.host = f"127.0.0.1:{port}"
        """``127.0.0.1:PORT``: the registry part of image references."""
        self.url = f"{'https' if tls else 'http'}://{self.host}"
        self.storage_dir = workdir / "storage"
        self.log_path = workdir / "registry.log"
        self._started(f"docker-registry {name} (pid {process.pid})")

    def __repr__(self) -> str:
        return f"Registry({self.name}, {self.url})"

    @property
    def running(self) -> bool:
        """Whether the registry process is still alive."""
        return self._process.poll() is None

    def log_text(self) -> str:
        """Everything the registry logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Terminate the registry and wait for it to exit (idempotent)."""
        stop_process(self._process)
        self._stopped()


def _htpasswd_file(path: Path, users: dict[str, Credentials]) -> Path:
    htpasswd = require_binary("htpasswd", "Debian package apache2-utils")
    # -i reads the password from stdin, so it never shows in the process list.
    lines = [
        run_checked([htpasswd, "-niB", creds.username], input_text=creds.password).strip()
        for creds in users.values()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _config(
    workdir: Path,
    *,
    tls: TLSFiles | None,
    users: dict[str, Credentials],
    token: TokenAuth | None,
    proxy_remote: str | None,
    proxy_credentials: Credentials | None,
) -> dict[str, Any]:
    http: dict[str, Any] = {"addr": "127.0.0.1:0", "secret": secrets.token_hex(16)}
    if tls:
        http["tls"] = {"certificate": str(tls.server_cert), "key": str(tls.server_key)}
    config: dict[str, Any] = {
        "version": "0.1",
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(workdir / "storage")},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
            "cache": {"blobdescriptor": "inmemory"},
        },
        "http": http,
    }
    if users and token:
        raise ValueError("a registry takes either htpasswd users or token auth, not both")
    if users:
        config["auth"] = {
            "htpasswd": {
                "realm": "hera-imagebuild-sandbox",
                "path": str(_htpasswd_file(workdir / "htpasswd", users)),
            }
        }
    if token:
        config["auth"] = {
            "token": {
                "realm": token.realm,
                "service": token.service,
                "issuer": token.issuer,
                "rootcertbundle": str(token.root_cert_bundle),
            }
        }
    if proxy_remote:
        proxy: dict[str, str] = {"remoteurl": proxy_remote}
        if proxy_credentials:
            proxy |= {"username": proxy_credentials.username, "password": proxy_credentials.password}
        config["proxy"] = proxy
    return config


def start_registry(
    workdir: Path,
    *,
    name: str = "registry",
    tls: TLSFiles | None = None,
    users: dict[str, Credentials] | None = None,
    token: TokenAuth | None = None,
    proxy_remote: str | None = None,
    proxy_credentials: Credentials | None = None,
    upstream_ca: Path | None = None,
    startup_timeout: float = 10.0,
) -> Registry:
    """Start ``docker-registry`` on a free loopback port and wait until it listens.

    Args:
        workdir: A directory of its own (config, storage, log); created if missing.
        name: A label for reprs and error messages.
        tls: Serve HTTPS with this server certificate.
        users: Require HTTP basic auth (bcrypt htpasswd) for these users.
        token: Require bearer tokens from this issuer (``auth: token``); its users become ``users``.
        proxy_remote: Run as a pull-through cache of this upstream URL. distribution 2.8 pings the
            upstream at start-up and exits if it cannot reach it (a :class:`SandboxError` here).
        proxy_credentials: Credentials the cache uses upstream. distribution 2.8 sends them only to
            a token realm (``auth: token`` upstream, as Docker Hub), never as basic auth.
        upstream_ca: A CA bundle the cache trusts for an HTTPS upstream (via ``SSL_CERT_FILE``).
        startup_timeout: Seconds to wait for the ``listening on`` log line.

    Raises:
        SandboxError: If the binary is missing, the registry exits, or it does not listen in time.
    """
    binary = require_binary("docker-registry", "Debian package docker-registry")
    workdir.mkdir(parents=True, exist_ok=True)
    users = dict(users or {})
    config = _config(
        workdir,
        tls=tls,
        users=users,
        token=token,
        proxy_remote=proxy_remote,
        proxy_credentials=proxy_credentials,
    )
    config_path = workdir / "config.yml"
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    config_path.chmod(0o600)
    # REGISTRY_* variables would override our config file: drop any inherited ones.
    env = {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}
    if upstream_ca:
        env["SSL_CERT_FILE"] = str(upstream_ca)
    log_path = workdir / "registry.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, "serve", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    registry_port = _wait_for_port(process, log_path, name, startup_timeout)
    if token:
        users = dict(token.users)
    registry = Registry(process=process, port=registry_port, workdir=workdir, tls=tls, users=users, name=name)
    return registry


def _wait_for_port(process: subprocess.Popen[bytes], log_path: Path, name: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = _LISTENING.search(log_path.read_bytes())
        if match:
            return int(match.group(1))
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise SandboxError(f"docker-registry {name} exited with {process.returncode} at start-up: {tail}")
        time.sleep(0.01)
    stop_process(process)
    raise SandboxError(f"docker-registry {name} did not report 'listening on' within {timeout:g} s")
