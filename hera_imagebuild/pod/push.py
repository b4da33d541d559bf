"""The push step: copy the image kaniko built (an OCI layout) to every destination and prove it arrived.

Why an OCI layout: see :mod:`hera_imagebuild.pod.oci_layout` (its manifest
bytes are the ones kaniko's ``--digest-file`` names, so the digest pushed is
provably the digest built).

Per destination repository (tags of one repository share the work): blobs the
registry lacks are uploaded (layers in parallel, already-present blobs
skipped, so a re-run after a partial push only sends what is missing), the
manifest's exact bytes are stored under each tag, and then the registry is
asked for the manifest by digest (its bytes hashed) and for each tag (it must
point at that digest). Only when every destination passes are the output
files written.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hera_imagebuild.common.contract import PushOutputs
from hera_imagebuild.common.failures import FailureKind
from hera_imagebuild.common.reference import ImageReference
from hera_imagebuild.pod.atomic import write_files
from hera_imagebuild.pod.oci_layout import OciLayout
from hera_imagebuild.pod.progress import Progress
from hera_imagebuild.pod.registry.access import RegistryAccess
from hera_imagebuild.pod.registry.client import RegistryClient
from hera_imagebuild.pod.registry.copy import CopyStats, copy_image, verify_served
from hera_imagebuild.pod.registry.errors import RegistryError
from hera_imagebuild.pod.registry.retry import Deadline, RetryPolicy


class DigestMismatchError(ValueError):
    """The layout's image is not the one expected (``--expected-digest``, or a destination's digest)."""


@dataclass
class DestinationResult:
    """One destination, pushed and verified.

    Attributes:
        destination: The destination as given (``registry/repository:tag``).
        ref: ``registry/repository@sha256:...``.
        tag: The tag stored, if any.
        stats: Blobs uploaded, present or mounted; bytes sent (shared by destinations in one repository).
        seconds: Time from start to verified.
    """

    destination: str
    ref: str
    tag: str | None
    stats: CopyStats
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """The destination's entry in ``report.json``."""
        return {
            "destination": self.destination,
            "ref": self.ref,
            "tag": self.tag,
            "verified": True,
            "seconds": round(self.seconds, 3),
            "blobs": {
                "uploaded": len(self.stats.uploaded),
                "alreadyPresent": len(self.stats.present),
                "mounted": len(self.stats.mounted),
            },
            "bytesUploaded": self.stats.bytes_uploaded,
            "manifestsPut": self.stats.manifests_put,
        }


@dataclass
class PushResult:
    """A push that reached and was verified at every destination."""

    digest: str
    media_type: str
    destinations: list[DestinationResult]
    seconds: float
    retries: int = 0

    def to_json(self) -> dict[str, Any]:
        """``report.json``."""
        return {
            "digest": self.digest,
            "mediaType": self.media_type,
            "seconds": round(self.seconds, 3),
            "retries": self.retries,
            "destinations": [d.to_json() for d in self.destinations],
        }


@dataclass
class PushFailure(Exception):
    """At least one destination was not pushed and verified.

    Attributes:
        errors: ``(destination, error)`` for each destination that failed.
    """

    errors: list[tuple[str, RegistryError]] = field(default_factory=list)

    @property
    def kind(self) -> FailureKind:
        """Transient only if every failure is (otherwise a retry cannot make the whole push succeed)."""
        if self.errors and all(e.kind is FailureKind.TRANSIENT for _, e in self.errors):
            return FailureKind.TRANSIENT
        return FailureKind.DETERMINISTIC

    def __str__(self) -> str:
        parts = [f"{destination}: {error}" for destination, error in self.errors]
        return "; ".join(parts)


def push_policy(*, max_attempts: int, timeout: float) -> RetryPolicy:
    """The retry policy for a push bounded by ``timeout`` seconds in total.

    One request may use a quarter of the budget (at most 60 s), so a hung
    request leaves time for further attempts; blob transfers get extra time per
    byte (:meth:`RetryPolicy.transfer_timeout`).

    Raises:
        ValueError: If ``max_attempts`` < 1 or ``timeout`` is not positive.
    """
    if max_attempts < 1:
        raise ValueError(f"--max-attempts: {max_attempts!r} must be at least 1")
    if not timeout > 0:
        raise ValueError(f"--timeout: {timeout!r} must be a positive number of seconds")
    request = min(60.0, max(1.0, timeout / 4))
    return RetryPolicy(
        max_attempts=max_attempts,
        request_timeout=request,
        connect_timeout=min(10.0, request),
        read_timeout=min(30.0, request),
    )


def _tag(destination: ImageReference) -> str | None:
    if destination.tag:
        return destination.tag
    return None if destination.digest else "latest"


async def _push_repository(
    client: RegistryClient,
    layout: OciLayout,
    group: Sequence[tuple[str, ImageReference]],
    digest: str,
    progress: Progress | None,
) -> list[DestinationResult]:
    """Push to one repository once, under every tag its destinations name, then verify each tag."""
    started = time.monotonic()
    repository = group[0][1]
    tags = list(dict.fromkeys(tag for _, ref in group if (tag := _tag(ref))))
    stats = await copy_image(client, layout, repository, digest, tags=tags, progress=progress)
    await verify_served(client, repository, digest, tags)
    seconds = time.monotonic() - started
    if progress:
        progress.info(f"{', '.join(text for text, _ in group)}: verified {digest} ({seconds:.2f}s)")
    return [DestinationResult(text, f"{ref.name}@{digest}", _tag(ref), stats, seconds) for text, ref in group]


def _by_repository(
    destinations: Sequence[tuple[str, ImageReference]],
) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = {}
    for index, (_, ref) in enumerate(destinations):
        groups.setdefault((ref.api_host, ref.repository), []).append(index)
    return groups


async def push_image(
    layout: OciLayout,
    destinations: Sequence[tuple[str, ImageReference]],
    *,
    access: RegistryAccess,
    policy: RetryPolicy,
    timeout: float,
    expected_digest: str | None = None,
    progress: Progress | None = None,
) -> PushResult:
    """Push the layout's image to every destination concurrently and verify each.

    Args:
        layout: The OCI layout kaniko wrote.
        destinations: ``(as given, parsed)`` pairs.
        access: Credentials and TLS settings.
        policy: Attempts and per-request limits.
        timeout: Seconds for the whole push, retries and verification included.
        expected_digest: Fail unless the layout's image has this digest.
        progress: Where to report.

    Returns:
        The verified result for every destination, in the order given.

    Raises:
        OciLayoutError: The layout is missing, incomplete or corrupt.
        DigestMismatchError: The layout's digest differs from ``expected_digest`` or
            from a digest a destination names.
        PushFailure: One or more destinations failed (after retries, within ``timeout``).
    """
    started = time.monotonic()
    image = layout.image()
    if expected_digest and image.digest != expected_digest:
        raise DigestMismatchError(
            f"--expected-digest: the image in {layout.path} has digest {image.digest}, not {expected_digest}"
        )
    for text, ref in destinations:
        if ref.digest and ref.digest != image.digest:
            raise DigestMismatchError(
                f"--destination: {text!r} names a digest, but the image's is {image.digest}"
            )
    top = layout.check(image)[0]
    retries = 0

    def on_retry(error: RegistryError, attempt: int, delay: float) -> None:
        nonlocal retries
        retries += 1
        if progress:
            progress.retry(error, attempt, delay)

    # Destinations in one repository (app:1.2 and app:latest) share one copy: blobs go up once.
    groups = list(_by_repository(destinations).values())
    async with RegistryClient(access, policy, deadline=Deadline(timeout), on_retry=on_retry) as client:
        jobs = [
            _push_repository(client, layout, [destinations[i] for i in group], image.digest, progress)
            for group in groups
        ]
        try:
            # The client's deadline stops new attempts; this stops one that is still waiting.
            outcomes = await asyncio.wait_for(asyncio.gather(*jobs, return_exceptions=True), timeout + 1.0)
        except (asyncio.TimeoutError, TimeoutError):
            error = RegistryError(
                f"not finished within --timeout={timeout:g}s",
                kind=FailureKind.TRANSIENT,
                operation="push",
                host=", ".join(sorted({ref.registry for _, ref in destinations})),
            )
            raise PushFailure([(text, error) for text, _ in destinations]) from None
    results: dict[int, DestinationResult] = {}
    failures: list[tuple[str, RegistryError]] = []
    for group, outcome in zip(groups, outcomes, strict=True):
        if isinstance(outcome, RegistryError):
            failures.extend((destinations[i][0], outcome) for i in group)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            results.update(zip(group, outcome, strict=True))
    if failures:
        raise PushFailure(failures)
    ordered = [results[i] for i in range(len(destinations))]
    return PushResult(image.digest, top.media_type, ordered, time.monotonic() - started, retries)


def write_outputs(result: PushResult, output_dir: str | Path) -> None:
    """Write ``digest``, ``image-ref``, ``image-refs.json`` and ``report.json``, all or nothing."""
    refs = [d.ref for d in result.destinations]
    write_files(
        output_dir,
        {
            PushOutputs.DIGEST: result.digest,
            PushOutputs.IMAGE_REF: refs[0],
            PushOutputs.IMAGE_REFS: json.dumps(refs),
            PushOutputs.REPORT: json.dumps(result.to_json(), indent=2) + "\n",
        },
    )
