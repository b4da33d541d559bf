"""Waiting for a workflow, and telling a person what it is doing.

:func:`wait` polls the workflow until it finishes or a deadline passes and
hands every snapshot to a callback; :class:`ProgressPrinter` is the callback
the CLI uses: one line per change (a step starts, retries, finishes), never
a line per poll.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from hera_imagebuild.cluster.backend import Backend
from hera_imagebuild.cluster.errors import ClusterError
from hera_imagebuild.cluster.resources import WORKFLOW
from hera_imagebuild.cluster.status import Step, WorkflowState, workflow_state

DEFAULT_TIMEOUT = 3600.0
"""Seconds to wait for a workflow when the caller does not say."""
DEFAULT_POLL_INTERVAL = 2.0
MAX_CONSECUTIVE_POLL_ERRORS = 5
"""Polls in a row that may fail transiently (5xx, unreachable) before :func:`wait` gives up."""


class WaitTimeout(ClusterError):
    """The workflow did not finish before the deadline (it keeps running in the cluster)."""

    def __init__(self, message: str, state: WorkflowState | None) -> None:
        super().__init__(message, reason="Timeout")
        self.state = state


def check_wait_bounds(timeout: float, poll_interval: float) -> None:
    """Refuse a wait that cannot work, so callers can check before they submit anything.

    Raises:
        ValueError: If either is not a positive number (NaN included: a NaN deadline never passes).
    """
    if not (timeout > 0 and poll_interval > 0):
        raise ValueError(f"timeout/poll interval: {timeout!r}/{poll_interval!r}; expected positive seconds")


def wait(
    backend: Backend,
    name: str,
    *,
    namespace: str | None = None,
    timeout: float,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    on_update: Callable[[WorkflowState], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WorkflowState:
    """Poll workflow ``name`` until it finishes, at most ``timeout`` seconds.

    Args:
        backend: Where the workflow lives.
        name: The workflow's name.
        namespace: Its namespace (default: the backend's).
        timeout: Seconds to wait in total.
        poll_interval: Seconds between polls.
        on_update: Called with every snapshot, the last one included.
        clock: Monotonic clock (tests pass a fake one).
        sleep: Sleep function (tests pass a fake one).

    Returns:
        The final state; check :attr:`WorkflowState.succeeded`.

    Raises:
        WaitTimeout: If the workflow is still running at the deadline.
        ClusterError: If the workflow cannot be read (a 4xx, or 5xx/unreachable
            :data:`MAX_CONSECUTIVE_POLL_ERRORS` times in a row).
        ValueError: See :func:`check_wait_bounds`.
    """
    check_wait_bounds(timeout, poll_interval)
    deadline = clock() + timeout
    errors = 0
    state: WorkflowState | None = None
    while True:
        try:
            state = workflow_state(backend.get(WORKFLOW, name, namespace))
            errors = 0
        except ClusterError as error:
            retryable = error.status is None or error.status >= 500
            errors += 1
            if not retryable or errors >= MAX_CONSECUTIVE_POLL_ERRORS:
                raise
        if state is not None and on_update is not None:
            on_update(state)
        if state is not None and state.done:
            return state
        remaining = deadline - clock()
        if remaining <= 0:
            phase = state.phase if state else "unknown"
            raise WaitTimeout(
                f"workflow {name} did not finish within {timeout:g} s (phase {phase}); it is still running "
                "in the cluster",
                state,
            )
        sleep(min(poll_interval, remaining))


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{value:.0f}s"


def describe_step(step: Step) -> str:
    """One line about a step: phase, attempt, elapsed, and the reason of the last retry."""
    attempt = f" attempt {len(step.attempts)}" if len(step.attempts) > 1 else ""
    text = f"{step.path}: {step.phase}{attempt} ({_seconds(step.elapsed)})"
    reasons = step.retry_reasons
    if reasons and step.phase not in ("Failed", "Error"):
        text += f"; retried after: {reasons[-1]}"
    if step.phase in ("Failed", "Error") and step.message:
        text += f": {step.message}"
    return text


class ProgressPrinter:
    """Prints a line whenever a step changes phase or starts another attempt."""

    def __init__(self, out: TextIO) -> None:
        """Print to ``out``."""
        self._out = out
        self._seen: dict[str, tuple[str, int]] = {}
        self._phase = ""

    def __call__(self, state: WorkflowState) -> None:
        """Print what changed since the last snapshot."""
        if state.phase != self._phase:
            self._phase = state.phase
            print(f"[{_seconds(state.elapsed):>6}] workflow {state.name}: {state.phase}", file=self._out)
        for step in state.steps:
            key = (step.phase, len(step.attempts))
            if self._seen.get(step.path) != key:
                self._seen[step.path] = key
                print(f"[{_seconds(state.elapsed):>6}]   {describe_step(step)}", file=self._out)
        self._out.flush()


def summary(state: WorkflowState) -> list[str]:
    """Closing lines: the images with digests on success, else the failed steps and their messages."""
    if state.succeeded:
        lines = [f"workflow {state.name} succeeded in {_seconds(state.elapsed)}"]
        for output in state.outputs:
            lines.extend(f"image {output.task}: {ref}" for ref in output.image_refs)
        return lines
    lines = [f"workflow {state.name} {state.phase.lower()}: {state.message or 'no message'}"]
    for step in state.failed_steps:
        reason = step.message or (step.attempts[-1].message if step.attempts else "") or "no message"
        lines.append(f"failed step {step.path} ({step.template}): {reason}")
    return lines
