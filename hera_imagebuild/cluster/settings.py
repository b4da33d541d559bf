"""Connection settings, following the Argo CLI's conventions.

Two ways to reach a cluster, chosen the way ``argo`` chooses:

* **Argo Server** when ``ARGO_SERVER`` (or ``--argo-server``) is set:
  ``host:port`` without a scheme, HTTPS unless ``ARGO_SECURE=false``,
  ``ARGO_INSECURE_SKIP_VERIFY`` to accept a self-signed certificate,
  ``ARGO_BASE_HREF`` when the server sits under a path, ``ARGO_TOKEN`` for the
  ``Authorization`` header.
* **Kubernetes API** otherwise: the kubeconfig (``--kubeconfig``, ``KUBECONFIG``,
  ``~/.kube/config``, optional ``--kube-context``), or the in-cluster service
  account when running in a pod.

``ARGO_NAMESPACE`` (or ``--namespace``) picks the namespace; otherwise the
kubeconfig context's namespace, the pod's own namespace, or ``default``.
Flags override the environment. The token is read from the environment only
(a flag would show it in ``ps`` and in shell history) and never printed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

_TRUE = frozenset({"1", "t", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "f", "false", "no", "n", "off", ""})

DEFAULT_REQUEST_TIMEOUT = 30.0
"""Seconds one HTTP request to the cluster may take."""


def parse_bool(name: str, value: str) -> bool:
    """Parse a boolean setting the way Go's ``strconv.ParseBool`` (and so the Argo CLI) accepts it.

    Raises:
        ValueError: Naming the setting, the value and the accepted spellings.
    """
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError(f"{name}: {value!r} is not a boolean; expected true or false (or 1/0, yes/no)")


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to reach the cluster.

    Attributes:
        argo_server: ``host:port`` of the Argo Server (a full ``http(s)://`` URL
            is accepted too); ``None`` means the Kubernetes API.
        secure: Use HTTPS for the Argo Server.
        insecure_skip_verify: Do not verify the Argo Server's certificate.
        base_href: Path prefix the Argo Server is served under.
        http1: Accepted for compatibility with the Argo CLI; this client always
            speaks HTTP/1.1 to the Argo Server's REST API.
        token: Bearer token for the Argo Server (``ARGO_TOKEN``); hidden from repr.
        namespace: Namespace for workflows and namespaced templates; ``None``
            means "from the kubeconfig context, else ``default``".
        kubeconfig: kubeconfig file; ``None`` means the client's default lookup.
        context: kubeconfig context; ``None`` means the current one.
        request_timeout: Seconds one HTTP request may take.
    """

    argo_server: str | None = None
    secure: bool = True
    insecure_skip_verify: bool = False
    base_href: str = ""
    http1: bool = False
    token: str | None = field(default=None, repr=False)
    namespace: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConnectionSettings:
        """Settings from ``ARGO_*`` environment variables (``os.environ`` by default).

        Raises:
            ValueError: If a boolean variable has a value that is not a boolean.
        """
        env = os.environ if env is None else env

        def flag(name: str, default: bool) -> bool:
            return parse_bool(name, env[name]) if name in env else default

        return cls(
            argo_server=env.get("ARGO_SERVER") or None,
            secure=flag("ARGO_SECURE", True),
            insecure_skip_verify=flag("ARGO_INSECURE_SKIP_VERIFY", False),
            base_href=env.get("ARGO_BASE_HREF", ""),
            http1=flag("ARGO_HTTP1", False),
            token=env.get("ARGO_TOKEN") or None,
            namespace=env.get("ARGO_NAMESPACE") or None,
        )

    @property
    def uses_argo_server(self) -> bool:
        """Whether requests go to the Argo Server rather than the Kubernetes API."""
        return self.argo_server is not None

    @property
    def argo_server_url(self) -> str:
        """The Argo Server's base URL, ending in ``/`` so API paths join below it.

        Raises:
            ValueError: If no Argo Server is configured or its address is malformed.
        """
        if self.argo_server is None:
            raise ValueError("argo server: not set; set ARGO_SERVER=host:port or pass --argo-server")
        server = self.argo_server.strip()
        if "://" in server:
            scheme, _, rest = server.partition("://")
            if scheme not in ("http", "https"):
                raise ValueError(f"argo server: {server!r} has scheme {scheme!r}; expected http or https")
            if not rest.strip("/") or any(ch.isspace() for ch in rest):
                raise ValueError(
                    f"argo server: {server!r} is not a URL such as https://argo.example.com:2746"
                )
            url = f"{scheme}://{rest.rstrip('/')}"
        else:
            if not server or "/" in server or any(ch.isspace() for ch in server):
                raise ValueError(
                    f"argo server: {server!r} is not host:port; expected e.g. localhost:2746 "
                    "(no scheme: set ARGO_SECURE=false for plain HTTP)"
                )
            url = f"{'https' if self.secure else 'http'}://{server}"
        href = self.base_href.strip("/")
        return f"{url}/{href}/" if href else f"{url}/"

    def describe(self) -> str:
        """Where requests go, for messages (never the token)."""
        if self.uses_argo_server:
            return f"Argo Server {self.argo_server_url}"
        where = self.kubeconfig or os.environ.get("KUBECONFIG") or "the default kubeconfig"
        context = f", context {self.context}" if self.context else ""
        return f"Kubernetes API ({where}{context})"


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the connection flags (the Argo CLI's spellings) to ``parser``."""
    group = parser.add_argument_group(
        "connection",
        "Argo Server when ARGO_SERVER/--argo-server is set, else the Kubernetes API (kubeconfig or "
        "in-cluster). The token is read from ARGO_TOKEN only.",
    )
    group.add_argument("-s", "--argo-server", metavar="HOST:PORT", help="Argo Server address (ARGO_SERVER)")
    group.add_argument(
        "--secure",
        choices=("true", "false"),
        help="use HTTPS for the Argo Server (ARGO_SECURE, default true)",
    )
    group.add_argument(
        "-k",
        "--insecure-skip-verify",
        action="store_true",
        default=None,
        help="do not verify the Argo Server's TLS certificate (ARGO_INSECURE_SKIP_VERIFY)",
    )
    group.add_argument("--argo-base-href", metavar="PATH", help="Argo Server path prefix (ARGO_BASE_HREF)")
    group.add_argument(
        "-H",
        "--argo-http1",
        action="store_true",
        default=None,
        help="accepted for Argo CLI compatibility (ARGO_HTTP1); requests always use HTTP/1.1",
    )
    group.add_argument("-n", "--namespace", help="namespace (ARGO_NAMESPACE; default from the kubeconfig)")
    group.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (KUBECONFIG)")
    # Not --context as in the argo CLI: for an image build, --context is the build context.
    group.add_argument(
        "--kube-context", dest="kube_context", help="kubeconfig context (default: the current context)"
    )
    group.add_argument(
        "--request-timeout",
        type=float,
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="SECONDS",
        help=f"seconds one request may take (default {DEFAULT_REQUEST_TIMEOUT:g})",
    )


def settings_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> ConnectionSettings:
    """Environment settings overridden by the flags from :func:`add_connection_arguments`.

    Raises:
        ValueError: If an environment variable or flag has a malformed value.
    """
    settings = ConnectionSettings.from_env(env)
    overrides: dict[str, object] = {}
    if args.argo_server:
        overrides["argo_server"] = args.argo_server
    if args.secure is not None:
        overrides["secure"] = parse_bool("--secure", args.secure)
    if args.insecure_skip_verify:
        overrides["insecure_skip_verify"] = True
    if args.argo_base_href is not None:
        overrides["base_href"] = args.argo_base_href
    if args.argo_http1:
        overrides["http1"] = True
    if args.namespace:
        overrides["namespace"] = args.namespace
    if args.kubeconfig:
        overrides["kubeconfig"] = args.kubeconfig
    if args.kube_context:
        overrides["context"] = args.kube_context
    if args.request_timeout is not None:
        if not args.request_timeout > 0:  # NaN too
            raise ValueError(
                f"--request-timeout: {args.request_timeout!r} must be a positive number of seconds"
            )
        overrides["request_timeout"] = args.request_timeout
    return replace(settings, **overrides)  # type: ignore[arg-type]
