"""Probing every source of every base image at once, each within one probe window.

Every (image, source) probe starts at the same time and gets ``probe_timeout``
seconds in total, its own quick retries of transient failures included. An
image then takes the first source, in preference order, that answered; the
probes it no longer needs are cancelled. So a hung mirror costs one probe
timeout for the whole run, however many images it was asked for. A source
that has already failed an attempt is not waited for once a later source has
answered: a refusing or erroring mirror costs nothing when another one works.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from hera_imagebuild.common.failures import FailureKind
from hera_imagebuild.common.reference import ImageReference
from hera_imagebuild.pod.prefetch_sources import Source
from hera_imagebuild.pod.registry import Platform, RegistryClient, RegistryError, ResolvedImage

T = TypeVar("T")

_FIRST_RETRY_DELAY = 0.1
_MAX_RETRY_DELAY = 1.0

CHOSEN = "chosen"
FAILED = "failed"
NOT_NEEDED = "not needed"


@dataclass(frozen=True)
class ProbeResult:
    """What one source did for one image.

    Attributes:
        source: The source probed.
        location: The reference asked for on that source.
        outcome: ``chosen``, ``failed`` or ``not needed`` (an earlier source was chosen).
        seconds: Time from the start of the probe to its result.
        attempts: Requests made (transient failures are retried within the window).
        error: What went wrong (``failed`` only); never holds a credential.
        kind: ``transient`` or ``deterministic`` (``failed`` only).
        resolved: The platform manifest found (``chosen`` only).
    """

    source: Source
    location: ImageReference
    outcome: str
    seconds: float
    attempts: int = 0
    error: str | None = None
    kind: FailureKind | None = None
    resolved: ResolvedImage | None = None


@dataclass(frozen=True)
class ImageProbes:
    """All probes for one image (and platform), in source order."""

    image: ImageReference
    platform: str
    results: tuple[ProbeResult, ...]

    @property
    def chosen(self) -> ProbeResult | None:
        """The source the image comes from, if any answered."""
        return next((r for r in self.results if r.outcome == CHOSEN), None)


@dataclass
class AttemptCounter:
    """Counts the requests :func:`retry_within` made, and remembers the last transient failure."""

    count: int = 0
    last_error: RegistryError | None = None
    failed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once an attempt has failed transiently (a retry may follow)."""


async def retry_within(
    attempt: Callable[[], Awaitable[T]],
    window: float,
    *,
    operation: str,
    host: str,
    counter: AttemptCounter | None = None,
) -> T:
    """Run ``attempt`` until it succeeds, fails deterministically, or ``window`` seconds are used up.

    Transient failures are retried with short backoff (or the registry's
    ``Retry-After``) while the window allows.

    Raises:
        RegistryError: The deterministic failure, the last transient one, or a
            transient "no answer within the probe timeout" (naming the failure
            before it, if there was one).
    """
    counter = counter or AttemptCounter()
    end = time.monotonic() + window
    last: RegistryError | None = None
    while True:
        counter.count += 1
        try:
            return await asyncio.wait_for(attempt(), max(end - time.monotonic(), 0))
        except (asyncio.TimeoutError, TimeoutError):
            earlier = f"; the attempt before failed: {last}" if last else ""
            raise RegistryError(
                f"no answer within the probe timeout ({window:g}s){earlier}",
                kind=FailureKind.TRANSIENT,
                operation=operation,
                host=host,
            ) from None
        except RegistryError as error:
            if not error.transient:
                raise
            last = counter.last_error = error
            counter.failed.set()
            delay = error.retry_after
            if delay is None:
                delay = min(_FIRST_RETRY_DELAY * 2 ** (counter.count - 1), _MAX_RETRY_DELAY)
            if time.monotonic() + delay >= end:
                raise
            await asyncio.sleep(delay)


async def probe_source(
    client: RegistryClient,
    source: Source,
    image: ImageReference,
    platform: Platform,
    window: float,
    counter: AttemptCounter | None = None,
) -> ProbeResult:
    """Resolve ``image`` for ``platform`` on ``source`` within ``window`` seconds, retries included."""
    location = source.locate(image)
    started = time.monotonic()
    counter = counter or AttemptCounter()
    try:
        resolved = await retry_within(
            lambda: client.resolve(location, platform),
            window,
            operation=f"resolve {location}",
            host=location.api_host,
            counter=counter,
        )
    except RegistryError as error:
        seconds = time.monotonic() - started
        return ProbeResult(source, location, FAILED, seconds, counter.count, str(error), error.kind)
    seconds = time.monotonic() - started
    return ProbeResult(source, location, CHOSEN, seconds, counter.count, resolved=resolved)


def _answered(task: asyncio.Task[ProbeResult]) -> bool:
    return task.done() and not task.cancelled() and task.result().outcome == CHOSEN


async def _settle(
    task: asyncio.Task[ProbeResult], counter: AttemptCounter, later: Sequence[asyncio.Task[ProbeResult]]
) -> bool:
    """Wait for ``task``; give up on it once it has failed an attempt and a later source answered.

    Returns:
        Whether ``task`` finished by itself (``False``: it was cancelled here).
    """
    while not task.done():
        if counter.last_error is not None and any(_answered(t) for t in later):
            task.cancel()
            return False
        failed = None if counter.last_error else asyncio.ensure_future(counter.failed.wait())
        waiting = [task, *(t for t in later if not t.done()), *([failed] if failed else [])]
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if failed is not None:
                failed.cancel()
    return True


async def _choose(
    image: ImageReference,
    sources: Sequence[Source],
    tasks: Sequence[asyncio.Task[ProbeResult]],
    counters: Sequence[AttemptCounter],
    started: float,
) -> list[ProbeResult]:
    """Wait for the sources in order; keep the first that answered, cancel the rest."""
    results: list[ProbeResult] = []
    chosen = False
    for index, (source, task, counter) in enumerate(zip(sources, tasks, counters, strict=True)):
        if chosen:
            task.cancel()
            results.append(ProbeResult(source, source.locate(image), NOT_NEEDED, 0.0))
            continue
        if await _settle(task, counter, tasks[index + 1 :]):
            result = task.result()
        else:
            assert counter.last_error is not None  # _settle gives up only after a failed attempt
            last = counter.last_error.noted("not retried further: a later source answered")
            elapsed = time.monotonic() - started
            result = ProbeResult(
                source, source.locate(image), FAILED, elapsed, counter.count, str(last), last.kind
            )
        chosen = result.outcome == CHOSEN
        results.append(result)
    return results


async def probe_all(
    client: RegistryClient,
    wanted: Sequence[tuple[ImageReference, str, Sequence[Source]]],
    window: float,
) -> list[ImageProbes]:
    """Probe every source of every image concurrently; one :class:`ImageProbes` per image, in order.

    Args:
        client: A client whose single requests are bounded by ``window``.
        wanted: ``(image, platform, sources in preference order)`` for each image.
        window: Seconds each probe may take, retries included.
    """
    started = time.monotonic()
    counters = [[AttemptCounter() for _ in sources] for _, _, sources in wanted]
    tasks = [
        [
            asyncio.ensure_future(
                probe_source(client, source, image, Platform.parse(platform), window, counter)
            )
            for source, counter in zip(sources, image_counters, strict=True)
        ]
        for (image, platform, sources), image_counters in zip(wanted, counters, strict=True)
    ]
    try:
        chosen = await asyncio.gather(
            *(
                _choose(image, sources, image_tasks, image_counters, started)
                for (image, _, sources), image_tasks, image_counters in zip(
                    wanted, tasks, counters, strict=True
                )
            )
        )
        return [
            ImageProbes(image, platform, tuple(results))
            for (image, platform, _), results in zip(wanted, chosen, strict=True)
        ]
    finally:
        for task in (t for image_tasks in tasks for t in image_tasks):
            task.cancel()
        await asyncio.gather(*(t for image_tasks in tasks for t in image_tasks), return_exceptions=True)
