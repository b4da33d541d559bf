"""Where prefetch looks for a base image, and the mirror plan that sends the build there.

A source is a registry host with an optional path prefix: a mirror
(``127.0.0.1:5001/dockerhub``), the cache registry, or the image's own
registry. The image ``docker.io/library/python`` on the mirror above is
``127.0.0.1:5001/dockerhub/library/python``, which is also how every builder's
registry configuration (kaniko's ``--registry-map``, buildah's
``registries.conf``) rewrites it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hera_imagebuild.builders import MirrorPlan
from hera_imagebuild.common import grammar
from hera_imagebuild.common.reference import (
    ImageReference,
    ReferenceError,
    normalize_registry,
    redact_userinfo,
)


@dataclass(frozen=True)
class Source:
    """A registry (and path prefix) that may serve an image.

    Attributes:
        host: ``host[:port]``.
        prefix: Path prefix inside the registry ("" for none).
        role: ``mirror``, ``origin`` or ``cache``.
    """

    host: str
    prefix: str = ""
    role: str = "mirror"

    def __str__(self) -> str:
        return f"{self.host}/{self.prefix}" if self.prefix else self.host

    def locate(self, image: ImageReference) -> ImageReference:
        """Where ``image`` lives on this source."""
        if self.role == "origin":
            return image
        return image.with_registry(self.host, self.prefix)


def parse_target(text: str, *, field: str, role: str = "mirror") -> Source:
    """Parse ``HOST[:PORT][/PREFIX]`` for a mirror or the cache registry (the client's grammar).

    Raises:
        ValueError: Naming ``field``, the value and the accepted form.
    """
    host, prefix = grammar.registry_source(field, text)
    return Source(host, prefix, role)


def parse_mirrors(
    entries: Iterable[tuple[str, Sequence[str]]], *, field: str = "--mirror"
) -> dict[str, list[Source]]:
    """Mirrors per registry, in order, from ``(registry, [mirror, ...])`` pairs.

    Registries are normalised (``index.docker.io`` and ``registry-1.docker.io``
    are ``docker.io``); pairs for the same registry add to its list.

    Raises:
        ValueError: For a malformed registry or mirror.
    """
    mirrors: dict[str, list[Source]] = {}
    for registry, targets in entries:
        try:
            key = normalize_registry(registry.strip(), field=f"{field} registry")
        except ReferenceError as error:
            raise ValueError(str(error)) from None
        for target in targets:
            source = parse_target(target, field=f"{field} {registry}")
            if source not in mirrors.setdefault(key, []):
                mirrors[key].append(source)
    return mirrors


def parse_mirror_flag(text: str) -> tuple[str, list[str]]:
    """Split one ``REGISTRY=MIRROR[,MIRROR...]`` flag value.

    Raises:
        ValueError: If the value has no ``=`` or no mirror.
    """
    registry, equals, targets = text.partition("=")
    mirrors = [t.strip() for t in targets.split(",") if t.strip()]
    if not equals or not registry.strip() or not mirrors:
        raise ValueError(
            f"--mirror: {redact_userinfo(text)!r} is not REGISTRY=MIRROR[,MIRROR...] (for example "
            "docker.io=mirror.example.com,127.0.0.1:5001/dockerhub)"
        )
    return registry, mirrors


def sources_for(
    image: ImageReference, mirrors: Mapping[str, Sequence[Source]], *, fallback: bool
) -> list[Source]:
    """The sources to try for ``image``: its registry's mirrors, then (with fallback) the registry."""
    sources = list(mirrors.get(image.registry, ()))
    if fallback:
        sources.append(Source(image.registry, "", "origin"))
    return sources


def mirror_plan(
    targets: Mapping[str, Sequence[Source]], *, fallback: bool, insecure: Iterable[str]
) -> MirrorPlan:
    """The plan the builder follows: for each registry, the sources to pull from, in preference order.

    Args:
        targets: For each original registry, the sources the build should try
            before the registry itself (origins are left out: whether the
            builder may fall back to them is ``fallback``).
        fallback: Whether the builder may use an image's own registry.
        insecure: Registries reached over plain HTTP.
    """
    sources = {
        registry: tuple(dict.fromkeys(str(s) for s in found if s.role != "origin"))
        for registry, found in targets.items()
    }
    return MirrorPlan(
        sources={registry: found for registry, found in sources.items() if found},
        fallback=fallback,
        insecure=tuple(sorted(insecure)),
    )
