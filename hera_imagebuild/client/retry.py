"""Retry presets: which failures each step retries, and how long Argo waits in between.

prefetch and push run this package's own code, which exits with
:data:`~hera_imagebuild.common.failures.EXIT_TRANSIENT` exactly when a retry can
help; the kaniko step is judged by its last log lines (its termination message)
against the builder's failure table (:mod:`hera_imagebuild.builders.kaniko`), which
extends the registry table the pod side classifies errors with.
"""

from __future__ import annotations

from hera.workflows import RetryPolicy as ArgoRetryPolicy
from hera.workflows import RetryStrategy
from hera.workflows.models import Backoff

from hera_imagebuild.builders import KANIKO
from hera_imagebuild.client.options import StepOptions
from hera_imagebuild.common.failures import step_retry_expression


def _strategy(step: StepOptions, expression: str) -> RetryStrategy:
    policy = step.retry
    backoff = Backoff(
        duration=policy.backoff, factor=policy.factor, max_duration=step.max_duration(), cap=policy.cap
    )
    # retryPolicy Always: the expression alone decides (the default, OnFailure, never retries
    # a pod-level Error such as an eviction, which the expressions accept).
    return RetryStrategy(
        limit=policy.limit, retry_policy=ArgoRetryPolicy.always, expression=expression, backoff=backoff
    )


def step_retry(step: StepOptions) -> RetryStrategy:
    """The retry strategy of the prefetch and push steps (transient exit code or pod error)."""
    return _strategy(step, step_retry_expression())


def build_retry(step: StepOptions) -> RetryStrategy:
    """The retry strategy of the kaniko step (transient error lines or pod error only)."""
    return _strategy(step, KANIKO.failures.retry_expression())
