"""The Kubernetes API backend: Argo's custom resources and Secrets through the ``kubernetes`` client."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError as Urllib3Error

from hera_imagebuild.cluster.backend import Manifest, display_name, request_error, scrub, unreachable_error
from hera_imagebuild.cluster.errors import ClusterError
from hera_imagebuild.cluster.resources import (
    ARGO_GROUP,
    ARGO_VERSION,
    ROLE,
    ROLE_BINDING,
    SECRET,
    SERVICE_ACCOUNT,
    Kind,
)
from hera_imagebuild.cluster.settings import ConnectionSettings

IN_CLUSTER_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
CONNECT_RETRIES = 1
"""urllib3 retries per request: enough for a dropped keep-alive connection, no more."""


def _kubeconfig_file(settings: ConnectionSettings) -> str | None:
    """The kubeconfig to load, or ``None`` to use the in-cluster service account."""
    if settings.kubeconfig:
        return settings.kubeconfig
    if os.environ.get("KUBECONFIG"):
        return os.environ["KUBECONFIG"]
    default = Path("~/.kube/config").expanduser()
    if default.is_file() or "KUBERNETES_SERVICE_HOST" not in os.environ:
        return str(default)
    return None


def _context_namespace(kubeconfig: str, context: str | None) -> str | None:
    contexts, current = config.list_kube_config_contexts(kubeconfig)  # type: ignore[no-untyped-call]
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    namespace = (chosen or {}).get("context", {}).get("namespace")
    return namespace if isinstance(namespace, str) and namespace else None


class KubernetesBackend:
    """Reads and writes objects through the Kubernetes API (kubeconfig or in-cluster config)."""

    def __init__(self, settings: ConnectionSettings) -> None:
        """Load the kubeconfig (or in-cluster config) named by ``settings``.

        Raises:
            ClusterError: If there is no usable kubeconfig or in-cluster config.
        """
        self._timeout = settings.request_timeout
        configuration = client.Configuration()
        kubeconfig = _kubeconfig_file(settings)
        try:
            if kubeconfig is None:
                config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
                namespace = (
                    IN_CLUSTER_NAMESPACE_FILE.read_text().strip()
                    if IN_CLUSTER_NAMESPACE_FILE.is_file()
                    else None
                )
                self.description = "Kubernetes API (in-cluster service account)"
            else:
                config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=kubeconfig,
                    context=settings.context,
                    client_configuration=configuration,
                    persist_config=False,
                )
                namespace = _context_namespace(kubeconfig, settings.context)
                context = f", context {settings.context}" if settings.context else ""
                self.description = f"Kubernetes API {configuration.host} (kubeconfig {kubeconfig}{context})"
        except (yaml.YAMLError, TypeError, AttributeError, KeyError, ValueError) as error:
            # The client parses the file itself and fails on YAML it cannot read or a document
            # that is not a mapping (a scalar, a list) with whatever its code met.
            problem = " ".join(str(error).split())[:300] or type(error).__name__
            raise ClusterError(
                f"kubeconfig {kubeconfig}: not a valid kubeconfig ({type(error).__name__}: {problem})",
                reason="NoConfig",
            ) from None
        except (ConfigException, OSError) as error:
            raise ClusterError(
                f"no cluster connection: {error}. Set ARGO_SERVER=host:port for the Argo Server, or point "
                "KUBECONFIG/--kubeconfig at a kubeconfig (optionally --kube-context)",
                reason="NoConfig",
            ) from None
        configuration.retries = CONNECT_RETRIES
        # The bearer token, bare and with its scheme, to scrub from server messages.
        self._secrets = [
            part for value in (configuration.api_key or {}).values() for part in (value, *value.split()[-1:])
        ]
        self.namespace = settings.namespace or namespace or "default"
        self._api = client.ApiClient(configuration)
        self._custom = client.CustomObjectsApi(self._api)
        self._core = client.CoreV1Api(self._api)
        self._rbac = client.RbacAuthorizationV1Api(self._api)

    def close(self) -> None:
        """Close the connection pool."""
        self._api.close()  # type: ignore[no-untyped-call]

    def _call(self, action: str, kind: Kind, name: str, method: Any, *args: Any, **kwargs: Any) -> Manifest:
        try:
            response = method(*args, _request_timeout=self._timeout, _preload_content=False, **kwargs)
            body: Manifest = json.loads(response.data)
            return body
        except ApiException as error:
            detail, reason = self._status_message(error)
            raise request_error(action, kind, name, error.status, detail, reason=reason) from None
        except Urllib3Error as error:
            raise unreachable_error(action, kind, name, self.description, error) from None

    def _status_message(self, error: ApiException) -> tuple[str, str]:
        # The API server answers errors with a Status object: {"message": ..., "reason": ...}.
        try:
            status = json.loads(error.body or "{}")
        except ValueError:
            status = {}
        if not isinstance(status, dict):
            status = {}
        detail = str(status.get("message") or error.reason or "")
        return scrub(detail, *self._secrets), str(status.get("reason") or error.reason or "")

    def _core_api(self, kind: Kind) -> tuple[Any, str] | None:
        # Built-in kinds: (API object, method suffix) for create_/read_/replace_<suffix>.
        table = {
            SECRET: (self._core, "namespaced_secret"),
            SERVICE_ACCOUNT: (self._core, "namespaced_service_account"),
            ROLE: (self._rbac, "namespaced_role"),
            ROLE_BINDING: (self._rbac, "namespaced_role_binding"),
        }
        return table.get(kind)

    def create(self, kind: Kind, manifest: Manifest, namespace: str | None = None) -> Manifest:
        """Create an object (``POST``)."""
        name, ns, core = display_name(manifest), self._ns(namespace), self._core_api(kind)
        if core:
            return self._call("create", kind, name, getattr(core[0], f"create_{core[1]}"), ns, manifest)
        if kind.namespaced:
            create = self._custom.create_namespaced_custom_object
            return self._call(
                "create", kind, name, create, ARGO_GROUP, ARGO_VERSION, ns, kind.plural, manifest
            )
        create_cluster = self._custom.create_cluster_custom_object
        return self._call(
            "create", kind, name, create_cluster, ARGO_GROUP, ARGO_VERSION, kind.plural, manifest
        )

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> Manifest:
        """Read an object (``GET``)."""
        ns, core = self._ns(namespace), self._core_api(kind)
        if core:
            return self._call("get", kind, name, getattr(core[0], f"read_{core[1]}"), name, ns)
        if kind.namespaced:
            get = self._custom.get_namespaced_custom_object
            return self._call("get", kind, name, get, ARGO_GROUP, ARGO_VERSION, ns, kind.plural, name)
        get_cluster = self._custom.get_cluster_custom_object
        return self._call("get", kind, name, get_cluster, ARGO_GROUP, ARGO_VERSION, kind.plural, name)

    def replace(self, kind: Kind, manifest: Manifest, namespace: str | None = None) -> Manifest:
        """Replace an object (``PUT``); ``manifest`` carries ``metadata.resourceVersion``."""
        name, ns, core = display_name(manifest), self._ns(namespace), self._core_api(kind)
        if core:
            return self._call(
                "update", kind, name, getattr(core[0], f"replace_{core[1]}"), name, ns, manifest
            )
        if kind.namespaced:
            put = self._custom.replace_namespaced_custom_object
            return self._call(
                "update", kind, name, put, ARGO_GROUP, ARGO_VERSION, ns, kind.plural, name, manifest
            )
        put_cluster = self._custom.replace_cluster_custom_object
        return self._call(
            "update", kind, name, put_cluster, ARGO_GROUP, ARGO_VERSION, kind.plural, name, manifest
        )

    def _ns(self, namespace: str | None) -> str:
        return namespace or self.namespace
