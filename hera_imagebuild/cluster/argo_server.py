"""The Argo Server backend: templates and workflows through Hera's ``WorkflowsService``."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import requests
from hera.exceptions import HeraException
from hera.workflows.models import (
    ClusterWorkflowTemplate,
    ClusterWorkflowTemplateCreateRequest,
    ClusterWorkflowTemplateUpdateRequest,
    Workflow,
    WorkflowCreateRequest,
    WorkflowTemplate,
    WorkflowTemplateCreateRequest,
    WorkflowTemplateUpdateRequest,
)
from hera.workflows.service import WorkflowsService
from pydantic import BaseModel, ValidationError
from urllib3.exceptions import InsecureRequestWarning

from hera_imagebuild.cluster.backend import Manifest, display_name, request_error, scrub, unreachable_error
from hera_imagebuild.cluster.errors import ClusterError
from hera_imagebuild.cluster.resources import CLUSTER_WORKFLOW_TEMPLATE, WORKFLOW, WORKFLOW_TEMPLATE, Kind
from hera_imagebuild.cluster.settings import ConnectionSettings

# Hera wraps the server's message as: Server returned status code 409 with message: `...`
_HERA_MESSAGE = re.compile(r"with message: `(?P<message>.*)`\s*$", re.DOTALL)


class _TimeoutSession(requests.Session):
    """A session whose requests time out: ``WorkflowsService`` passes no timeout of its own."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]


def _dump(model: BaseModel) -> Manifest:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


class ArgoServerBackend:
    """Reads and writes templates and workflows through the Argo Server's REST API.

    The Argo Server has no API for Secrets: those need the Kubernetes API.
    """

    def __init__(self, settings: ConnectionSettings) -> None:
        """Configure the service for ``settings``.

        Raises:
            ValueError: If the Argo Server address is malformed.
        """
        self.description = f"Argo Server {settings.argo_server_url}"
        self.namespace = settings.namespace or "default"
        # The token as given ("Bearer x" or "x") and bare, to scrub from server messages.
        self._secrets = (settings.token, *settings.token.split()[-1:]) if settings.token else ()
        self._insecure = settings.insecure_skip_verify
        self._service = WorkflowsService(
            host=settings.argo_server_url,
            verify_ssl=not settings.insecure_skip_verify,
            token=settings.token,
            namespace=self.namespace,
            session=_TimeoutSession(settings.request_timeout),
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self._service.close()  # type: ignore[no-untyped-call]

    def _call(self, action: str, kind: Kind, name: str, call: Callable[[], BaseModel]) -> Manifest:
        try:
            with warnings.catch_warnings():
                # Hera 7.1's service serialises requests with pydantic's deprecated .json(): not ours to fix.
                warnings.filterwarnings("ignore", category=DeprecationWarning, module="hera")
                if self._insecure:
                    # The user chose ARGO_INSECURE_SKIP_VERIFY; a warning per request would drown --watch.
                    warnings.simplefilter("ignore", InsecureRequestWarning)
                return _dump(call())
        except HeraException as error:
            match = _HERA_MESSAGE.search(str(error))
            detail = match.group("message") if match else str(error)
            status = getattr(error, "status_code", None)
            raise request_error(action, kind, name, status, scrub(detail, *self._secrets)) from None
        except requests.exceptions.SSLError:
            raise request_error(
                action,
                kind,
                name,
                None,
                f"TLS verification of {self.description} failed; for a self-signed certificate set "
                "ARGO_INSECURE_SKIP_VERIFY=true, for plain HTTP ARGO_SECURE=false",
                reason="TLS",
            ) from None
        except requests.exceptions.Timeout:
            raise request_error(
                action, kind, name, None, f"{self.description} did not answer in time", reason="Timeout"
            ) from None
        except requests.exceptions.RequestException as error:
            raise unreachable_error(action, kind, name, self.description, error) from None
        except (ValueError, KeyError) as error:
            # A 2xx body that is not the object we asked for, or an error body without "message".
            raise request_error(
                action,
                kind,
                name,
                None,
                f"unexpected answer from {self.description}: {type(error).__name__}",
                reason="BadResponse",
            ) from None

    def create(self, kind: Kind, manifest: Manifest, namespace: str | None = None) -> Manifest:
        """Create a template or workflow (``POST``)."""
        name, ns, svc = display_name(manifest), namespace or self.namespace, self._service
        try:
            if kind == CLUSTER_WORKFLOW_TEMPLATE:
                cwt = ClusterWorkflowTemplateCreateRequest(
                    template=ClusterWorkflowTemplate.model_validate(manifest)
                )
                return self._call("create", kind, name, lambda: svc.create_cluster_workflow_template(cwt))
            if kind == WORKFLOW_TEMPLATE:
                wt = WorkflowTemplateCreateRequest(
                    namespace=ns, template=WorkflowTemplate.model_validate(manifest)
                )
                return self._call(
                    "create", kind, name, lambda: svc.create_workflow_template(wt, namespace=ns)
                )
            if kind == WORKFLOW:
                wf = WorkflowCreateRequest(namespace=ns, workflow=Workflow.model_validate(manifest))
                return self._call("create", kind, name, lambda: svc.create_workflow(wf, namespace=ns))
        except ValidationError as error:
            raise ValueError(f"{kind} {name}: not a valid {kind}: {error}") from None
        raise self._unsupported(kind)

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> Manifest:
        """Read a template or workflow (``GET``)."""
        ns, svc = namespace or self.namespace, self._service
        if kind == CLUSTER_WORKFLOW_TEMPLATE:
            return self._call("get", kind, name, lambda: svc.get_cluster_workflow_template(name))
        if kind == WORKFLOW_TEMPLATE:
            return self._call("get", kind, name, lambda: svc.get_workflow_template(name, namespace=ns))
        if kind == WORKFLOW:
            return self._call("get", kind, name, lambda: svc.get_workflow(name, namespace=ns))
        raise self._unsupported(kind)

    def replace(self, kind: Kind, manifest: Manifest, namespace: str | None = None) -> Manifest:
        """Replace a template (``PUT``); ``manifest`` carries ``metadata.resourceVersion``."""
        name, ns, svc = display_name(manifest), namespace or self.namespace, self._service
        if kind == CLUSTER_WORKFLOW_TEMPLATE:
            cwt = ClusterWorkflowTemplateUpdateRequest(
                name=name, template=ClusterWorkflowTemplate.model_validate(manifest)
            )
            return self._call("update", kind, name, lambda: svc.update_cluster_workflow_template(name, cwt))
        if kind == WORKFLOW_TEMPLATE:
            wt = WorkflowTemplateUpdateRequest(
                name=name, namespace=ns, template=WorkflowTemplate.model_validate(manifest)
            )
            return self._call(
                "update", kind, name, lambda: svc.update_workflow_template(name, wt, namespace=ns)
            )
        raise self._unsupported(kind)

    def _unsupported(self, kind: Kind) -> ClusterError:
        return ClusterError(
            f"{kind}: the Argo Server has no API for this kind; unset ARGO_SERVER to use the Kubernetes API "
            "(kubeconfig), or print the manifest and apply it with kubectl",
            reason="Unsupported",
        )
