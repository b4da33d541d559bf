"""Registry credentials as a ``kubernetes.io/dockerconfigjson`` Secret.

The Secret's ``.dockerconfigjson`` is a docker ``config.json``: per registry,
``username``, ``password`` and ``auth`` = base64 of ``username:password``, the
same content ``kubectl create secret docker-registry`` writes. The build pods
mount it as ``/kaniko/.docker/config.json``, where kaniko and this package's
prefetch and push steps read it.

The password lives only inside the Secret's base64 data: it is never part of
an error message or a repr.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hera_imagebuild.cluster.resources import MANAGED_BY
from hera_imagebuild.common.reference import DOCKER_HUB, ReferenceError, normalize_registry

DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
"""The key ``docker login`` and ``kubectl`` use for Docker Hub in a docker config."""

SECRET_TYPE = "kubernetes.io/dockerconfigjson"  # noqa: S105 (a type name, not a password)
SECRET_DATA_KEY = ".dockerconfigjson"  # noqa: S105 (a key name, not a password)

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def registry_config_key(registry: str, *, field_name: str = "registry") -> str:
    """The docker config key for ``registry``.

    Accepts ``host[:port]``, optionally followed by a path (a mirror's prefix,
    which credentials do not depend on), and Docker Hub in any spelling
    (``docker.io``, ``index.docker.io``, ``https://index.docker.io/v1/``).

    Raises:
        ValueError: If ``registry`` is not a registry host.
    """
    text = registry.strip()
    if text.rstrip("/") == DOCKER_HUB_CONFIG_KEY.rstrip("/"):
        return DOCKER_HUB_CONFIG_KEY
    if "://" in text:
        raise ValueError(
            f"{field_name}: {registry!r} has a URL scheme; expected 'host[:port]' such as "
            "'registry.example.com:5000' or 'docker.io'"
        )
    host = text.split("/", 1)[0]
    try:
        normalized = normalize_registry(host, field=field_name)
    except ReferenceError as error:
        raise ValueError(str(error)) from None
    return DOCKER_HUB_CONFIG_KEY if normalized == DOCKER_HUB else normalized


def check_username(username: str) -> str:
    """Check a registry user name (before any password is read).

    Raises:
        ValueError: If it is empty, contains ``:`` or a line break.
    """
    if not username:
        raise ValueError("username: it is empty; expected the registry user name")
    if ":" in username:
        raise ValueError(
            f"username: {username!r} contains ':'; a docker config 'auth' is "
            "base64('username:password'), so the user name cannot contain ':'"
        )
    if any(ch in username for ch in "\r\n"):
        raise ValueError("username: it contains a line break")
    return username


@dataclass(frozen=True)
class RegistryCredential:
    """A username and password for one registry (the password is hidden from repr).

    Raises:
        ValueError: On construction, if the registry is not a host, the username
            is empty or contains ``:``, or the password is empty.
    """

    registry: str
    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        registry_config_key(self.registry)
        check_username(self.username)
        if not self.password:
            raise ValueError("password: it is empty; expected the registry password or token on stdin")

    @property
    def config_key(self) -> str:
        """The registry's key in a docker config."""
        return registry_config_key(self.registry)

    def auth_entry(self) -> dict[str, str]:
        """The docker config entry: username, password and ``auth``."""
        auth = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"username": self.username, "password": self.password, "auth": auth}


def docker_config(credentials: Sequence[RegistryCredential]) -> dict[str, Any]:
    """A docker ``config.json`` document for ``credentials``.

    Registries spelled differently but naming the same host share one entry;
    the last credential given for a host wins.

    Raises:
        ValueError: If ``credentials`` is empty.
    """
    if not credentials:
        raise ValueError("registry: none given; expected at least one registry host")
    return {"auths": {c.config_key: c.auth_entry() for c in credentials}}


def validate_secret_name(name: str, *, field_name: str = "name") -> str:
    """Check that ``name`` is a valid Secret name (a DNS-1123 subdomain).

    Raises:
        ValueError: Naming the value and the accepted form.
    """
    if not name or len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name):
        raise ValueError(
            f"{field_name}: {name!r} is not a valid Secret name; expected lower-case letters, digits, "
            "'-' and '.', starting and ending with a letter or digit, at most 253 characters"
        )
    return name


def docker_config_secret(
    name: str,
    credentials: Sequence[RegistryCredential],
    *,
    namespace: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``kubernetes.io/dockerconfigjson`` Secret manifest for ``credentials``.

    Args:
        name: The Secret's name.
        credentials: One entry per registry (mirrors and cache registries included).
        namespace: The Secret's namespace; omitted when ``None``.
        labels: Extra labels.

    Returns:
        The manifest as a dict, ready for YAML output or the Kubernetes API.

    Raises:
        ValueError: If the name or a credential is invalid, or none is given.
    """
    validate_secret_name(name)
    config = json.dumps(docker_config(credentials), separators=(",", ":"))
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    metadata["labels"] = {**MANAGED_BY, **(labels or {})}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": SECRET_TYPE,
        "data": {SECRET_DATA_KEY: base64.b64encode(config.encode()).decode()},
    }


def credentials_for(registries: Sequence[str], username: str, password: str) -> list[RegistryCredential]:
    """The same username and password for each of ``registries`` (an origin and its mirrors).

    Raises:
        ValueError: If no registry is given or any value is invalid.
    """
    if not registries:
        raise ValueError("registry: none given; expected at least one --registry HOST[:PORT]")
    return [RegistryCredential(registry=r, username=username, password=password) for r in registries]


def read_password(text: str) -> str:
    """A password read from stdin: one trailing line break removed, as ``docker login --password-stdin`` does.

    Raises:
        ValueError: If nothing is left.
    """
    password = text.removesuffix("\n").removesuffix("\r")
    if not password:
        raise ValueError("--password-stdin: stdin was empty; pipe the password or token into the command")
    return password
