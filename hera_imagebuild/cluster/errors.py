"""Errors the cluster side raises: one type, a message fit for a terminal, never a secret."""

from __future__ import annotations


class ClusterError(Exception):
    """A request to the cluster failed, or its answer was not what a build needs.

    Attributes:
        status: The HTTP status the server answered with, if it answered.
        reason: A short machine-readable reason (``AlreadyExists``, ``NotFound``,
            ``Unauthorized``, ``Unreachable``, ``Timeout``, ...).
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason

    @property
    def message(self) -> str:
        """The message, without the exception type."""
        return str(self.args[0])


# What to tell the user after the server's own words, per HTTP status.
STATUS_HINTS: dict[int, str] = {
    401: "the server did not accept the credentials: check ARGO_TOKEN or the kubeconfig user",
    403: "the credentials are valid but not allowed to do this: check the RBAC role of this user",
    404: "not found: check the namespace, and that Argo Workflows (its CRDs) is installed",
    500: "the server failed; its message is above. Retrying later may help",
    503: "the server is unavailable; retrying later may help",
}
