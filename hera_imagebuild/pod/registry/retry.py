"""Bounded retries: attempts, an overall deadline, exponential backoff with jitter, Retry-After."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from hera_imagebuild.common.failures import FailureKind
from hera_imagebuild.pod.registry.errors import RegistryError

T = TypeVar("T")

RetryHook = Callable[[RegistryError, int, float], None]
"""Called before sleeping for a retry with ``(error, failed attempt number, delay seconds)``."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries.

    Attributes:
        max_attempts: Attempts per operation (1 = no retry). Only transient failures are retried.
        base_delay: The first backoff delay; it doubles per attempt (full jitter).
        max_delay: Cap on one backoff delay (a registry's ``Retry-After`` may ask for more,
            up to the deadline).
        connect_timeout: Seconds to establish a connection (TCP and TLS).
        read_timeout: Seconds without receiving a byte.
        request_timeout: Seconds one request may take in total, body included, so a server
            that trickles bytes cannot hold it forever. Blob transfers get extra time per byte
            (see ``min_rate``).
        min_rate: Bytes per second a blob transfer may not fall below on average; it sets the
            transfer's own deadline (``request_timeout + size / min_rate``).
        max_retry_after: The longest ``Retry-After`` worth waiting for in-process; a registry that
            asks for more fails the operation as transient (the step's own retry comes later).
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 10.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    request_timeout: float = 60.0
    min_rate: float = 256 * 1024
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts: {self.max_attempts!r} must be at least 1")
        for name in ("base_delay", "max_delay", "connect_timeout", "read_timeout", "request_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: {getattr(self, name)!r} must be a positive number of seconds")
        if self.min_rate <= 0:
            raise ValueError(f"min_rate: {self.min_rate!r} must be a positive number of bytes per second")

    def backoff(self, attempt: int) -> float:
        """The jittered delay after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography

    def transfer_timeout(self, size: int) -> float:
        """The total time allowed for moving a blob of ``size`` bytes."""
        return self.request_timeout + size / self.min_rate


class Deadline:
    """A point in monotonic time after which no new work starts; ``None`` means no deadline."""

    def __init__(self, seconds: float | None) -> None:
        self._end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` without a deadline."""
        return None if self._end is None else max(0.0, self._end - time.monotonic())

    def cap(self, seconds: float) -> float:
        """``seconds``, shortened to what is left of the deadline."""
        left = self.remaining()
        return seconds if left is None else min(seconds, left)

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed."""
        left = self.remaining()
        return left is not None and left <= 0


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    deadline: Deadline,
    on_retry: RetryHook | None = None,
) -> T:
    """Run ``attempt`` until it succeeds, fails deterministically, or the attempts or deadline run out.

    The last error is raised with a note saying why there was no further
    attempt. A ``Retry-After`` the registry sent replaces the backoff delay;
    when it (or the backoff) would run past the deadline, the error is raised at once.
    """
    number = 1
    while True:
        try:
            return await attempt()
        except RegistryError as error:
            if error.kind is not FailureKind.TRANSIENT:
                raise
            if number >= policy.max_attempts:
                if number == 1:
                    raise
                raise error.noted(f"gave up after {number} attempts") from None
            delay = error.retry_after if error.retry_after is not None else policy.backoff(number)
            left = deadline.remaining()
            if delay > policy.max_retry_after:
                raise error.noted(
                    f"not waiting {delay:g}s for a retry (at most {policy.max_retry_after:g}s)"
                ) from None
            if left is not None and delay >= left:
                raise error.noted(f"no time left for a retry in {delay:.1f}s ({left:.1f}s left)") from None
            if on_retry is not None:
                on_retry(error, number, delay)
            await asyncio.sleep(delay)
            number += 1
