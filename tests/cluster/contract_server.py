"""A loopback stand-in for the Kubernetes API and the Argo Server, for contract tests.

It is not a cluster: it stores what it is sent, answers in the shapes the
real servers use (Kubernetes ``Status`` objects, the Argo Server's
grpc-gateway ``{"code", "message"}`` errors), and checks every request body
it receives with the project's lint: Argo's JSON schemas v4.0.9 and v3.7.14
(IntOrString patched to accept integers) and the strict check (unknown keys, references; a
``templateRef`` must name a template the server holds). A body that fails the schema is
answered with 400 *and* recorded in :attr:`ContractServer.invalid_bodies`,
which the fixture asserts empty at teardown: a contract test cannot pass
while sending Argo something it would reject.

What it does not do: run workflows. A created Workflow is given the status
sequence in :attr:`ContractServer.workflow_statuses`; each GET advances it
one step, so a watcher sees a realistic progression.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hera_imagebuild.lint import WORKFLOW_KINDS, ArgoSchema, Document, lint_documents, load_schema
from hera_imagebuild.sandbox.tls import TLSFiles

Status = dict[str, Any]
REPO_ROOT = Path(__file__).resolve().parents[2]
# Argo's JSON schemas cannot be vendored; the workspace keeps them next to the repository (as for
# tests/lint). HERA_IMAGEBUILD_ARGO_SCHEMA_DIR points elsewhere.
ARGO_SCHEMA_DIR = Path(
    os.environ.get("HERA_IMAGEBUILD_ARGO_SCHEMA_DIR") or REPO_ROOT.parent / "shared" / "argo"
)
ARGO_SCHEMA_FILES = ("schema-v4.0.9.json", "schema-v3.7.14.json")


@lru_cache(maxsize=1)
def argo_schemas() -> tuple[ArgoSchema, ...]:
    """Argo's v4.0.9 and v3.7.14 JSON schemas (patched, compiled), or none when they are absent.

    Without them the server still runs the strict lint; ``test_contract_server_enforces_argos_schema``
    is then skipped with the reason, so the gap shows in every test report.
    """
    files = [ARGO_SCHEMA_DIR / name for name in ARGO_SCHEMA_FILES]
    return tuple(load_schema(file) for file in files if file.is_file())


def lint_errors(kind: str, body: Any, templates: list[dict[str, Any]]) -> list[str]:
    """Argo JSON-schema and strict-lint problems of ``body`` (empty for non-Argo kinds).

    ``templates`` are the (Cluster)WorkflowTemplates the server holds: a ``templateRef``
    must name one of them, as the real Argo Server checks on submission.
    """
    if kind not in WORKFLOW_KINDS:
        return []
    references = [Document("installed", i + 1, t) for i, t in enumerate(templates)]
    problems = lint_documents([Document("request", 1, body)], schemas=argo_schemas(), references=references)
    return [str(p) for p in problems]


@dataclass(frozen=True)
class Recorded:
    """One request as received."""

    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class Fault:
    """Answer matching requests with an error instead of serving them."""

    status: int
    method: str | None = None
    path: str = ""
    times: int | None = None
    message: str = "injected failure"


@dataclass(frozen=True)
class _Route:
    api: str  # "kube" or "argo"
    kind: str
    namespace: str | None
    name: str | None


# Kubernetes API paths: (group/version prefix, plural) -> kind.
_KUBE_KINDS = {
    "clusterworkflowtemplates": "ClusterWorkflowTemplate",
    "workflowtemplates": "WorkflowTemplate",
    "workflows": "Workflow",
    "secrets": "Secret",
    "serviceaccounts": "ServiceAccount",
    "roles": "Role",
    "rolebindings": "RoleBinding",
}
_KUBE_PATH = re.compile(
    r"^/(?:api/v1|apis/argoproj\.io/v1alpha1|apis/rbac\.authorization\.k8s\.io/v1)"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[a-z]+)(?:/(?P<name>[^/]+))?$"
)
_ARGO_KINDS = {
    "cluster-workflow-templates": ("ClusterWorkflowTemplate", "template"),
    "workflow-templates": ("WorkflowTemplate", "template"),
    "workflows": ("Workflow", "workflow"),
}
_ARGO_PATH = re.compile(r"^/api/v1/(?P<coll>[a-z-]+)(?:/(?P<rest>.+))?$")
# grpc-gateway codes the Argo Server answers with, per HTTP status.
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 422: 3, 500: 13, 503: 14}
_K8S_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "AlreadyExists",
    422: "Invalid",
    500: "InternalError",
    503: "ServiceUnavailable",
}


class ContractServer:
    """The loopback server; start with :meth:`start`, stop with :meth:`stop` (or use ``with``)."""

    def __init__(self, *, token: str | None = None, tls: TLSFiles | None = None) -> None:
        self.token = token
        self.tls = tls
        self.requests: list[Recorded] = []
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.invalid_bodies: list[tuple[str, list[str]]] = []
        self.workflow_statuses: list[Status] = []
        self._positions: dict[str, int] = {}
        self._versions = itertools.count(1000)
        self._names = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> ContractServer:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.server_cert, self.tls.server_key)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="contract-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> ContractServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    # helpers for tests ---------------------------------------------------------------------------
    def put_object(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Store an object as if it had been created earlier."""
        stored = self._stamp(copy.deepcopy(manifest))
        meta = stored["metadata"]
        self.objects[(stored["kind"], meta.get("namespace"), meta["name"])] = stored
        return stored

    def get_object(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return self.objects.get((kind, namespace, name))

    def calls(self, method: str | None = None, path: str = "") -> list[Recorded]:
        return [
            r for r in self.requests if (method is None or r.method == method) and re.search(path, r.path)
        ]

    # request handling --------------------------------------------------------------------------
    def _stamp(self, manifest: dict[str, Any]) -> dict[str, Any]:
        meta = manifest.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{next(self._names):05d}"
        meta["resourceVersion"] = str(next(self._versions))
        meta.setdefault("uid", f"uid-{meta.get('name')}")
        meta.setdefault("creationTimestamp", datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        return manifest

    def handle(self, method: str, path: str, authorization: str | None, raw: bytes) -> tuple[int, Any]:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            self.requests.append(Recorded(method, path, authorization, body))
            route = _route(path)
            if route is None:
                return 404, _error("kube", 404, f"the server could not find the requested resource ({path})")
            for fault in self.faults:
                if (fault.method in (None, method)) and re.search(fault.path, path) and fault.times != 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault.status, _error(route.api, fault.status, fault.message, route)
            if self.token is not None and authorization != f"Bearer {self.token}":
                return 401, _error(
                    route.api, 401, "Unauthorized" if route.api == "kube" else "token not valid"
                )
            return self._serve(method, route, body)

    def _serve(self, method: str, route: _Route, body: Any) -> tuple[int, Any]:
        if method == "GET" and route.name:
            stored = self.objects.get((route.kind, route.namespace, route.name))
            if stored is None:
                return 404, _error(route.api, 404, f'{route.kind.lower()}s "{route.name}" not found', route)
            if route.kind == "Workflow":
                stored = self._advance(stored)
            return 200, stored
        if method not in ("POST", "PUT"):
            return 405, _error(route.api, 405, f"{method} not served")
        manifest = body
        if route.api == "argo":
            key = _ARGO_KINDS[_argo_collection(route.kind)][1]
            manifest = (body or {}).get(key)
        if not isinstance(manifest, dict):
            return 400, _error(route.api, 400, "request body has no object", route)
        templates = [
            o for (k, _, _), o in self.objects.items() if k in ("WorkflowTemplate", "ClusterWorkflowTemplate")
        ]
        errors = lint_errors(route.kind, manifest, templates)
        if manifest.get("kind") not in (None, route.kind):
            errors.append(f"kind: {manifest.get('kind')!r} sent to the {route.kind} endpoint")
        if errors:
            self.invalid_bodies.append((f"{method} {route.kind}", errors))
            return 400, _error(route.api, 400, "; ".join(errors[:3]), route)
        manifest = copy.deepcopy(manifest)
        meta = manifest.setdefault("metadata", {})
        if route.namespace and meta.get("namespace") not in (None, route.namespace):
            return 400, _error(
                route.api, 400, "the namespace of the object does not match the request", route
            )
        if route.namespace:
            meta["namespace"] = route.namespace
        if method == "POST":
            name = meta.get("name")
            if name and (route.kind, route.namespace, name) in self.objects:
                return 409, _error(route.api, 409, f'{route.kind.lower()}s "{name}" already exists', route)
            stored = self._stamp(manifest)
            if route.kind == "Workflow":
                stored["status"] = {}
                self._positions[stored["metadata"]["name"]] = -1
            self.objects[(route.kind, route.namespace, stored["metadata"]["name"])] = stored
            return (201 if route.api == "kube" else 200), stored
        key = (route.kind, route.namespace, route.name or meta.get("name", ""))
        current = self.objects.get(key)
        if current is None:
            return 404, _error(route.api, 404, f'{route.kind.lower()}s "{route.name}" not found', route)
        version = meta.get("resourceVersion")
        if not version:
            return 422, _error(
                route.api, 422, "metadata.resourceVersion: must be specified for an update", route
            )
        if version != current["metadata"]["resourceVersion"]:
            return 409, _error(
                route.api,
                409,
                "the object has been modified; please apply your changes to the latest version",
                route,
            )
        meta["uid"] = current["metadata"].get("uid")
        meta["creationTimestamp"] = current["metadata"].get("creationTimestamp")
        stored = self._stamp(manifest)
        self.objects[key] = stored
        return 200, stored

    def _advance(self, workflow: dict[str, Any]) -> dict[str, Any]:
        name = workflow["metadata"]["name"]
        if self.workflow_statuses:
            position = min(self._positions.get(name, -1) + 1, len(self.workflow_statuses) - 1)
            self._positions[name] = position
            workflow["status"] = _rename_nodes(self.workflow_statuses[position], name)
        return workflow


def _argo_collection(kind: str) -> str:
    return next(coll for coll, (k, _) in _ARGO_KINDS.items() if k == kind)


def _route(path: str) -> _Route | None:
    path = path.split("?", 1)[0]
    match = _ARGO_PATH.match(path)
    if match and match.group("coll") in _ARGO_KINDS:
        kind = _ARGO_KINDS[match.group("coll")][0]
        parts = (match.group("rest") or "").split("/") if match.group("rest") else []
        if kind == "ClusterWorkflowTemplate":
            return _Route("argo", kind, None, parts[0] if parts else None)
        return _Route("argo", kind, parts[0] if parts else None, parts[1] if len(parts) > 1 else None)
    match = _KUBE_PATH.match(path)
    if match and match.group("plural") in _KUBE_KINDS:
        return _Route("kube", _KUBE_KINDS[match.group("plural")], match.group("ns"), match.group("name"))
    return None


def _error(api: str, status: int, message: str, route: _Route | None = None) -> dict[str, Any]:
    if api == "argo":
        return {"code": _GRPC_CODES.get(status, 2), "message": message, "details": []}
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": _K8S_REASONS.get(status, "Unknown"),
        "code": status,
    }
    if route is not None and route.name:
        body["details"] = {"name": route.name, "kind": route.kind.lower() + "s"}
    return body


def _rename_nodes(status: Status, name: str) -> Status:
    # Scripted statuses are written for a workflow called "WF"; give them the real name.
    return json.loads(json.dumps(status).replace("WF", name))


def _handler_for(server: ContractServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _respond(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, body = server.handle(self.command, self.path, self.headers.get("Authorization"), raw)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _respond

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: requests are recorded, not logged

    return Handler


# Scripted workflow statuses -------------------------------------------------------------------------

SCRIPT_LEAD = 50
"""The scripted workflow started this many seconds before the script was made (so elapsed times are sane)."""


@dataclass
class StatusScript:
    """Builds the status sequence of a one-off build workflow ``WF`` (task ``build``)."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    start: datetime = field(
        default_factory=lambda: datetime.now(timezone.utc) - timedelta(seconds=SCRIPT_LEAD)
    )

    def t(self, seconds: int) -> str:
        """The timestamp ``seconds`` after the workflow started, as Argo writes it."""
        return (self.start + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def node(self, node_id: str, **fields: Any) -> StatusScript:
        node = self.nodes.setdefault(node_id, {"id": node_id, "name": node_id})
        node.update(fields)
        return self

    def child(self, parent: str, child: str) -> StatusScript:
        children = self.nodes[parent].setdefault("children", [])
        if child not in children:
            children.append(child)
        return self

    def snapshot(self, phase: str, message: str = "", finished: int | None = None) -> StatusScript:
        status: Status = {"phase": phase, "startedAt": self.t(0), "nodes": copy.deepcopy(self.nodes)}
        if message:
            status["message"] = message
        if finished is not None:
            status["finishedAt"] = self.t(finished)
        self.statuses.append(status)
        return self

    def step(
        self, name: str, attempt: int, phase: str, start: int, end: int | None = None, **extra: Any
    ) -> StatusScript:
        """Attempt ``attempt`` of step ``name`` (a Retry node ``WF.build.NAME`` with pod children)."""
        retry = f"WF.build.{name}"
        if retry not in self.nodes:
            self.node(
                retry,
                displayName=name,
                type="Retry",
                templateName=name,
                phase="Running",
                startedAt=self.t(start),
            )
            self.child("WF.build", retry)
        pod = f"{retry}({attempt})"
        fields: dict[str, Any] = {"displayName": f"{name}({attempt})", "type": "Pod", "templateName": name}
        fields.update(phase=phase, startedAt=self.t(start), **extra)
        if end is not None:
            fields["finishedAt"] = self.t(end)
        self.node(pod, **fields).child(retry, pod)
        return self


def build_statuses(*, fail_build: bool = False) -> list[Status]:
    """Pending -> prefetch -> build (attempt 0 fails transiently, retried) -> push -> Succeeded.

    With ``fail_build``, the retried build fails again with a deterministic
    error and the workflow fails.
    """
    digest = "sha256:" + "ab" * 32
    refs = [f"registry.example.com/team/app@{digest}", f"mirror.example.com/team/app@{digest}"]
    s = StatusScript()
    s.snapshot("Pending")
    s.node("WF", displayName="WF", type="DAG", templateName="main", phase="Running", startedAt=s.t(0))
    s.node(
        "WF.build",
        displayName="build",
        type="DAG",
        phase="Running",
        startedAt=s.t(1),
        templateRef={"name": "hera-imagebuild-v0-1-0", "template": "build", "clusterScope": True},
    )
    s.child("WF", "WF.build")
    s.step("prefetch", 0, "Running", 1).snapshot("Running")
    s.step("prefetch", 0, "Succeeded", 1, 4).node("WF.build.prefetch", phase="Succeeded", finishedAt=s.t(4))
    s.step(
        "build",
        0,
        "Failed",
        5,
        20,
        message="error building image: GET https://mirror/v2/: connection reset by peer",
    )
    s.step("build", 1, "Running", 22).snapshot("Running")
    if fail_build:
        message = "error building image: failed to execute command: exit status 2"
        s.step("build", 1, "Failed", 22, 30, message=message)
        s.node("WF.build.build", phase="Failed", finishedAt=s.t(30), message=message)
        s.node("WF.build", phase="Failed", finishedAt=s.t(30), message="child 'WF.build.build' failed")
        s.node("WF", phase="Failed", finishedAt=s.t(30), message="child 'WF.build' failed")
        return s.snapshot("Failed", "child 'WF.build' failed", finished=30).statuses
    s.step("build", 1, "Succeeded", 22, 40).node("WF.build.build", phase="Succeeded", finishedAt=s.t(40))
    s.step("push", 0, "Running", 41).snapshot("Running")
    outputs = {
        "parameters": [
            {"name": "digest", "value": digest},
            {"name": "image-ref", "value": refs[0]},
            {"name": "image-refs", "value": json.dumps(refs)},
        ]
    }
    s.step("push", 0, "Succeeded", 41, 45, outputs=outputs).node(
        "WF.build.push", phase="Succeeded", finishedAt=s.t(45)
    )
    s.node("WF.build", phase="Succeeded", finishedAt=s.t(45), outputs=outputs)
    s.node("WF", phase="Succeeded", finishedAt=s.t(45))
    return s.snapshot("Succeeded", finished=45).statuses


def running_server(token: str | None = None) -> Iterator[ContractServer]:
    """Start a server, yield it, stop it (for fixtures)."""
    server = ContractServer(token=token).start()
    try:
        yield server
    finally:
        server.stop()
