"""Image references: parsing, validation and normalisation.

Follows the grammar of distribution's ``reference`` package
(``[registry[:port]/]path[:tag][@digest]``) closely enough to reject what a
registry would reject, with Docker Hub's implicit ``docker.io`` and
``library/`` filled in. Shared by the client (spec validation) and the pods
(prefetch, push), so it imports nothing outside the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

DOCKER_HUB = "docker.io"
"""The canonical name of Docker Hub in image references."""
DOCKER_HUB_API = "registry-1.docker.io"
"""The host that serves Docker Hub's registry API."""
DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", DOCKER_HUB_API})

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_HOST_RE = re.compile(
    r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
    r"|\[[0-9a-fA-F:.]+\])"
    r"(?::[0-9]+)?"
)
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_SHA256_RE = re.compile(r"sha256:[a-f0-9]{64}")
_USERINFO_RE = re.compile(r"[^/=,@\s]*@")
# "user:password@host/..." at the start of a reference; a digest's "@" is never followed by a "/".
_LEADING_USERINFO_RE = re.compile(r"^[^/@\s]+@(?=[^/@\s]+/)")
MAX_NAME_LENGTH = 255

REFERENCE_HELP = (
    "an image reference such as 'registry.example.com:5000/team/app:tag', "
    "'python:3.12-slim' or 'repo@sha256:<64 hex>'"
)


class ReferenceError(ValueError):
    """An image reference that does not follow the reference grammar."""


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference.

    Attributes:
        registry: The registry host (and port), ``docker.io`` for Docker Hub.
        repository: The repository path, with ``library/`` for official
            Docker Hub images.
        tag: The tag, if the reference has one.
        digest: The digest (``algorithm:hex``), if the reference has one.
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``registry/repository``, without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def api_host(self) -> str:
        """The host that serves this registry's API (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def reference(self) -> str:
        """What to ask the registry's manifest endpoint for: the digest, else the tag."""
        return self.digest or self.tag or "latest"

    def with_digest(self, digest: str) -> ImageReference:
        """The same repository pinned to ``digest`` (the tag is kept for readers)."""
        return replace(self, digest=digest)

    def with_registry(self, registry: str, prefix: str = "") -> ImageReference:
        """The same image on another registry, optionally under a path prefix."""
        prefix = prefix.strip("/")
        repository = f"{prefix}/{self.repository}" if prefix else self.repository
        return replace(self, registry=registry, repository=repository)

    def pinned(self) -> str:
        """``registry/repository@digest``: the form that no tag move can change."""
        if not self.digest:
            raise ReferenceError(f"{self} has no digest to pin to")
        return f"{self.name}@{self.digest}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def split_registry(name: str) -> tuple[str | None, str]:
    """Split ``name`` into an explicit registry (or ``None``) and the rest.

    The first path component is a registry when it contains a dot or a colon,
    or is ``localhost`` (the rule Docker uses).
    """
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        return first, rest
    return None, name


def parse_reference(text: str, *, field: str = "image") -> ImageReference:
    """Parse and normalise an image reference.

    Args:
        text: The reference as a user wrote it.
        field: The name of the input it came from, used in error messages.

    Returns:
        The normalised reference (``docker.io`` and ``library/`` made explicit).

    Raises:
        ReferenceError: If ``text`` is not a valid reference; the message names
            ``field``, the value and the accepted form.
    """

    def bad(why: str) -> ReferenceError:
        shown = _LEADING_USERINFO_RE.sub("***@", text) if isinstance(text, str) else text
        return ReferenceError(
            f"{field}: {shown!r} is not a valid image reference ({why}); expected {REFERENCE_HELP}"
        )

    if not isinstance(text, str) or not text:
        raise bad("it is empty")
    if _LEADING_USERINFO_RE.match(text):
        raise bad("it carries credentials; put them in the docker config, never in a reference")
    if text != text.strip() or any(ch.isspace() for ch in text):
        raise bad("it contains white space")
    remainder, at, digest = text.partition("@")
    if at and digest.startswith("sha256:") and not _SHA256_RE.fullmatch(digest):
        raise bad("a sha256 digest has 64 lower-case hex digits")
    if at and not _DIGEST_RE.fullmatch(digest):
        raise bad(f"digest {digest!r} is not 'algorithm:hex'")
    if at and not digest.startswith("sha256:"):
        # Every digest is checked against the bytes it names; only sha256 is computed here, so
        # another algorithm would be replaced unverified by the sha256 of whatever a registry serves.
        raise bad(f"digest {digest.partition(':')[0]!r}: only sha256 digests are accepted")
    registry, path = split_registry(remainder)
    tag: str | None = None
    name_part, colon, maybe_tag = path.rpartition(":")
    if colon:
        if not _TAG_RE.fullmatch(maybe_tag):
            raise bad(
                f"tag {maybe_tag!r} must be 1-128 letters, digits, '_', '.' or '-', "
                "not starting with '.' or '-'"
            )
        tag, path = maybe_tag, name_part
    if registry is not None and not _HOST_RE.fullmatch(registry):
        raise bad(f"registry {registry!r} is not a host name with an optional port")
    if not path:
        raise bad("the repository path is empty")
    if not _PATH_RE.fullmatch(path):
        raise bad(
            f"repository {path!r} must be lower-case components of letters and digits "
            "separated by '.', '_', '__', '-' or '/'"
        )
    if registry is None or registry in DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    if len(f"{registry}/{path}") > MAX_NAME_LENGTH:
        raise bad(f"the name is longer than {MAX_NAME_LENGTH} characters")
    return ImageReference(registry=registry, repository=path, tag=tag, digest=digest or None)


def normalize_registry(host: str, *, field: str = "registry") -> str:
    """Validate a registry host name and fold Docker Hub's aliases to ``docker.io``.

    Raises:
        ReferenceError: If ``host`` is not ``host[:port]``.
    """
    if not isinstance(host, str) or not _HOST_RE.fullmatch(host):
        raise ReferenceError(
            f"{field}: {redact_userinfo(str(host))!r} is not a registry host; "
            "expected 'host[:port]' such as 'docker.io' or 'mirror.example.com:5000'"
        )
    return DOCKER_HUB if host in DOCKER_HUB_ALIASES else host


def is_repository_path(text: str) -> bool:
    """Whether ``text`` is a repository path (``team/app``): components the reference grammar allows."""
    return bool(_PATH_RE.fullmatch(text))


def redact_userinfo(text: str) -> str:
    """``text`` with any ``user:password@`` part of a host replaced by ``***@`` (for messages)."""
    return _USERINFO_RE.sub("***@", text)


_CREDENTIALS_RE = re.compile(r"[^/=,@\s'\"]+@(?![a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,})")
"""``user:password@`` or ``token@`` anywhere, but not the ``@`` of a digest (``repo@sha256:...``)."""


def redact_credentials(text: str) -> str:
    """``text`` with every ``userinfo@`` replaced by ``***@``, digests left alone (for any message)."""
    return _CREDENTIALS_RE.sub("***@", text)
