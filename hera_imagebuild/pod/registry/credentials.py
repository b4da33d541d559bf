"""Registry credentials, read only from a docker config file (``config.json``)."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from pathlib import Path

from hera_imagebuild.common.redaction import remember_secret
from hera_imagebuild.common.reference import DOCKER_HUB, DOCKER_HUB_ALIASES
from hera_imagebuild.common.untrusted_json import UntrustedJSONError, load_untrusted

_MAX_DOCKER_CONFIG = 1024 * 1024
"""The largest docker config read (a config with a few dozen registries is a few KiB)."""


@dataclass(frozen=True)
class Credential:
    """A user name and password, or an identity (refresh) token, for one registry.

    ``repr`` never shows the secret parts.
    """

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)


def registry_key(key: str) -> str:
    """Normalise a docker config ``auths`` key or a registry host to ``host[:port]``.

    Keys may be ``host``, ``https://host`` or ``https://index.docker.io/v1/``;
    every Docker Hub alias folds to ``docker.io``.
    """
    host = key.strip()
    for scheme in ("https://", "http://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
    host = host.split("/", 1)[0].lower()
    return DOCKER_HUB if host in DOCKER_HUB_ALIASES else host


def default_config_path() -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    directory = os.environ.get("DOCKER_CONFIG")
    base = Path(directory) if directory else Path.home() / ".docker"
    return base / "config.json"


@dataclass(frozen=True)
class DockerConfig:
    """The ``auths`` section of a docker config file.

    Attributes:
        path: The file read, or ``None`` when there was none.
        credentials: Normalised registry host -> credential.
    """

    path: Path | None = None
    credentials: dict[str, Credential] = field(default_factory=dict, repr=False)

    def lookup(self, host: str) -> Credential | None:
        """The credential for a registry host (any Docker Hub alias finds Docker Hub's)."""
        return self.credentials.get(registry_key(host))

    @classmethod
    def load(cls, authfile: str | os.PathLike[str] | None = None) -> DockerConfig:
        """Read credentials from ``authfile``, else from the default docker config.

        An explicit ``authfile`` must exist; the default file may be absent (no
        credentials). ``credsStore``/``credHelpers`` are not used: a pod has no
        credential helpers, only the mounted config file.

        Raises:
            ValueError: If the file is missing (when explicit), not JSON, or has a
                malformed entry; the message names the file and the registry key,
                never a secret.
        """
        path = Path(authfile) if authfile else default_config_path()
        try:
            found = path.is_file()
        except OSError as exc:  # a directory on the way this user may not enter
            raise ValueError(f"docker config {str(path)!r}: cannot read it ({exc.strerror})") from None
        if not found:
            if authfile:
                raise ValueError(f"--authfile: {str(path)!r} does not exist or is not a file")
            return cls()
        try:
            with path.open("rb") as handle:
                data = handle.read(_MAX_DOCKER_CONFIG + 1)
        except OSError as exc:
            raise ValueError(f"docker config {str(path)!r}: cannot read it ({type(exc).__name__})") from None
        try:
            document = load_untrusted(data, what=f"docker config {str(path)!r}", max_bytes=_MAX_DOCKER_CONFIG)
        except UntrustedJSONError as error:
            raise ValueError(str(error)) from None
        if not isinstance(document, dict):
            raise ValueError(f"docker config {str(path)!r}: expected a JSON object with an 'auths' map")
        auths = document.get("auths") or {}
        if not isinstance(auths, dict):
            raise ValueError(f"docker config {str(path)!r}: 'auths' must be a map of registry -> entry")
        credentials = {registry_key(key): _credential(path, key, entry) for key, entry in auths.items()}
        return cls(path=path, credentials={k: v for k, v in credentials.items() if v is not None})


def _credential(path: Path, key: str, entry: object) -> Credential | None:
    where = f"docker config {str(path)!r}, auths[{key!r}]"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object with 'auth' or 'username'/'password'")
    username = str(entry.get("username") or "")
    password = str(entry.get("password") or "")
    token = str(entry.get("identitytoken") or "")
    encoded = entry.get("auth")
    if encoded:
        try:
            decoded = base64.b64decode(str(encoded), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError(f"{where}: 'auth' is not base64 of 'user:password'") from None
        user, colon, secret = decoded.partition(":")
        if not colon:
            raise ValueError(f"{where}: 'auth' does not decode to 'user:password'")
        username, password = user, secret
    if not (username or password or token):
        return None
    remember_secret(password, token, str(encoded or ""))
    return Credential(username=username, password=password, identity_token=token)
