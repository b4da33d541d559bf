"""A real kaniko executor between the real prefetch and push, held the way the build pod holds it.

Skipped without ``$HERA_IMAGEBUILD_KANIKO_EXECUTOR``, the path of a kaniko executor binary (CI has
none; docs/builders.md records the last run and where an executor comes from). Two kinds of test:

* the template replay: the rendered ClusterWorkflowTemplate's own argv, env and mounts for the three
  steps, parameters substituted as Argo would, kaniko chrooted with its volumes bind-mounted at the
  template's mount paths, and the layout handed to push the way Argo hands it (a tar round trip that
  keeps kaniko's modes, the init container's ownership, then the artifact's ``mode``), push as the
  runtime image's uid 65532;
* failures: kaniko's real last lines for each fault, classified by the table its retry rule is
  written from, and kept as test data (tests/data/builder-output/kaniko).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from build_helpers import Built, assert_build_failed_as, image_content, local_build, write_context
from client.expr_eval import evaluate, last_retry
from real_builds import needs_kaniko

from hera_imagebuild.builders import KANIKO
from hera_imagebuild.builders.kaniko import POD_DEADLINE_MESSAGE
from hera_imagebuild.client.options import BuildSettings, PvcHandoff
from hera_imagebuild.client.published import cluster_workflow_template
from hera_imagebuild.common.contract import WORKSPACE
from hera_imagebuild.common.failures import EXIT_OK, EXIT_TRANSIENT, FailureKind
from hera_imagebuild.local.build import KANIKO_EXECUTOR_ENV, STEP_COMMAND
from hera_imagebuild.local.kaniko_sandbox import Bind, sandboxed_argv
from hera_imagebuild.local.process import run_bounded
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy
from hera_imagebuild.sandbox.images import OCIImage
from hera_imagebuild.sandbox.registry import Registry, start_registry

pytestmark = [needs_kaniko, pytest.mark.timeout(240)]

ARGO_EXECUTOR_UID = 8737
"""The uid of Argo's ``argoexec`` in its non-root image; the default image runs as root (either way
the unpacked files belong to the init container's user, not push's)."""
RUNTIME_UID = 65532
"""The runtime image's user (images/runtime/Dockerfile)."""
_PARAMETER = re.compile(r"\{\{inputs\.parameters\.([a-z0-9-]+)\}\}")

DOCKERFILE = """\
ARG NOTE=default
FROM busybox:1.36 AS builder
ARG NOTE
WORKDIR /workspace
COPY . .
RUN echo "note=$NOTE" > /note.txt
FROM busybox:1.37
COPY --from=builder /note.txt /workspace /app/
COPY --from=busybox:1.36 /etc/os-release /app/other-release
CMD ["cat", "/app/note.txt"]
"""


def _executor() -> Path:
    return Path(os.environ[KANIKO_EXECUTOR_ENV])


def _substitute(value: str, parameters: dict[str, str]) -> str:
    """What Argo makes of one template string: ``{{inputs.parameters.X}}`` and our one ``{{=...}}``."""
    fallback = "{{=inputs.parameters.fallback == 'false'}}"
    value = value.replace(fallback, "true" if parameters["fallback"] == "false" else "false")
    return _PARAMETER.sub(lambda match: parameters[match.group(1)], value)


def _pod_template(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in document["spec"]["templates"] if t["name"] == name)
    return found


def _remap(value: str, root: Path) -> str:
    """A runtime-image pod path on this machine: /workspace/... below ``root``."""
    return value.replace(WORKSPACE, str(root))


def _argo_tar_round_trip(layout: Path, target: Path, *, owner: int, mode: int | None) -> None:
    """Hand ``layout`` over as Argo does: tar keeping modes, untar as the init container's user, chmod."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:  # the wait container's tarDir keeps modes
        tar.add(layout, arcname=".")
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as tar:  # untar: OpenFile(..., header.Mode), no chown
        tar.extractall(target, filter="fully_trusted")
    for path in [target, *target.rglob("*")]:
        os.chown(path, owner, owner)
        if mode is not None:  # the input artifact's mode, applied recursively (executor.go chmod)
            path.chmod(mode)


def _as_user(uid: int, *argv: str) -> list[str]:
    """``argv`` as ``uid`` with no capability at all, as a pod with ``drop: [ALL]`` runs it."""
    user = [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    return ["setpriv", *user, "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", *argv]


def test_the_shipped_template_argv_builds_with_real_kaniko_and_push_reads_it_as_the_pod_user(
    tmp_path: Path,
    shared_dir: Path,
    shell_hub: Registry,
    shell_images: dict[str, OCIImage],
    plain_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
) -> None:
    broken = fault_proxy(shell_hub, Fault("hang"), name="broken-mirror")
    hosts = (shell_hub.host, broken.host, plain_registry.host)
    document = yaml.safe_load(cluster_workflow_template(BuildSettings(insecure_registries=hosts)).to_yaml())
    context = write_context(tmp_path / "context", DOCKERFILE, {"out/kept.txt": "kept\n"})
    destination = f"{plain_registry.host}/kaniko/replay:1"
    parameters = {
        "dockerfile": "Dockerfile",
        "build-args": json.dumps({"NOTE": "replayed"}),
        "labels": json.dumps({"team": "ml"}),
        "target": "",
        "platform": "linux/amd64",
        "mirrors": json.dumps({"docker.io": [broken.host, shell_hub.host]}),
        "fallback": "false",
        "probe-timeout": "1",
        "base-image-cache": "",
        "http-proxy": "",
        "https-proxy": "",
        "no-proxy": "",
        "cache": "false",
        "cache-repo": "",
        "disable-http2": "false",
        "destinations": json.dumps([destination]),
    }

    # prefetch, with the template's argv (its /workspace paths below a local root).
    prefetch_pod = tmp_path / "prefetch-pod"
    (prefetch_pod / "out").mkdir(parents=True)
    (prefetch_pod / "context").symlink_to(context)
    prefetch = _pod_template(document, "build-prefetch")["container"]
    argv = [_remap(_substitute(arg, parameters), prefetch_pod) for arg in prefetch["args"]]
    finished = run_bounded([*STEP_COMMAND, *argv], timeout=60)
    assert finished.returncode == EXIT_OK, finished.tail
    parameters["registry-map"] = (prefetch_pod / "out" / "registry-map").read_text()
    assert broken.host not in parameters["registry-map"]
    broken_requests = len(broken.requests)

    # kaniko, with the template's argv, env and mounts.
    build = _pod_template(document, "build-kaniko")
    container = build["container"]
    assert container["command"] == [KANIKO.executor]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    mounts |= {a["path"].rpartition("/")[0] for a in build["inputs"]["artifacts"] if a.get("raw")}
    mounts.add(KANIKO.paths.context)  # the context input artifact
    host = tmp_path / "build-pod"
    binds = []
    for mount in sorted(mounts):
        if mount == KANIKO.paths.context:
            binds.append(Bind(context, mount, read_only=True))
            continue
        directory = host / mount.strip("/").replace("/", "_")
        directory.mkdir(parents=True)
        binds.append(Bind(directory, mount))
    pinned_dir = host / KANIKO.paths.dockerfile.rpartition("/")[0].strip("/").replace("/", "_")
    (pinned_dir / "Dockerfile").write_text((prefetch_pod / "out" / "Dockerfile").read_text())
    args = [_substitute(arg, parameters) for arg in container["args"]]
    env = {e["name"]: _substitute(e["value"], parameters) for e in container["env"]}
    root = tmp_path / "kaniko-root"
    root.mkdir()
    command = sandboxed_argv(
        [KANIKO.executor, *args], executor=_executor(), root=root, binds=binds, env_names=list(env)
    )
    finished = run_bounded(command, timeout=180, env={**os.environ, **env})
    assert finished.returncode == 0, finished.tail
    assert "flag provided but not defined" not in finished.tail
    assert len(broken.requests) == broken_requests  # the registry map sent kaniko past the broken mirror
    out_dir = host / KANIKO.paths.output.strip("/").replace("/", "_")
    layout = host / KANIKO.paths.layout.strip("/").replace("/", "_")
    digest = (out_dir / "digest").read_text().strip()
    modes = {p.stat().st_mode & 0o777 for p in (layout / "blobs" / "sha256").iterdir()}
    assert 0o600 in modes  # kaniko's layer blobs: readable by their owner only

    # push, as the runtime image's user, on the layout as Argo's init container leaves it.
    push = _pod_template(document, "build-push")
    image_artifact = next(a for a in push["inputs"]["artifacts"] if a["name"] == "image")
    parameters["digest"] = digest

    def run_push(pod: Path, uid: int, image: Path | None = None) -> Any:
        """The push step's argv with its /workspace below ``pod``, run as ``uid`` with no capability."""
        (pod / "out").mkdir(parents=True)
        os.chown(pod / "out", uid, uid)
        if image is not None:
            (pod / "image").symlink_to(image)
        push_argv = [_remap(_substitute(a, parameters), pod) for a in push["container"]["args"]]
        push_env = {e["name"]: _substitute(e["value"], parameters) for e in push["container"]["env"]}
        command = _as_user(uid, *STEP_COMMAND, *push_argv)
        return run_bounded(command, timeout=120, env={**os.environ, **push_env})

    unreadable = shared_dir / "without-mode"
    _argo_tar_round_trip(layout, unreadable / "image", owner=ARGO_EXECUTOR_UID, mode=None)
    refused = run_push(unreadable, RUNTIME_UID)
    assert refused.returncode == 1, refused.tail  # deterministic: the same files fail every attempt
    assert "cannot read it (Permission denied)" in refused.tail
    assert f"this step runs as uid {RUNTIME_UID}" in refused.tail

    pod = shared_dir / "with-mode"
    _argo_tar_round_trip(layout, pod / "image", owner=ARGO_EXECUTOR_UID, mode=image_artifact["mode"])
    pushed = run_push(pod, RUNTIME_UID)
    assert pushed.returncode == EXIT_OK, pushed.tail
    assert (pod / "out" / "digest").read_text() == digest  # digest file = pushed digest = served (verified)

    # The PVC handoff keeps kaniko's own files (uid 0, 0600): push reads them as their owner, no capability.
    pvc_document = yaml.safe_load(
        cluster_workflow_template(
            BuildSettings(insecure_registries=hosts, handoff=PvcHandoff(claim_name="scratch"))
        ).to_yaml()
    )
    security = _pod_template(pvc_document, "build-push")["container"]["securityContext"]
    assert (security["runAsUser"], security["capabilities"]) == (0, {"drop": ["ALL"]})
    pvc_pod = shared_dir / "pvc"
    shutil.copytree(layout, pvc_pod / "image")
    as_runtime_user = run_push(shared_dir / "pvc-as-runtime-user", RUNTIME_UID, image=pvc_pod / "image")
    assert as_runtime_user.returncode == 1, as_runtime_user.tail
    pvc_push = run_push(pvc_pod, security["runAsUser"])
    assert pvc_push.returncode == EXIT_OK, pvc_push.tail


def _kaniko_build(
    tmp_path: Path, dockerfile: str, *, hub: Registry, registry: Registry, **options: Any
) -> Built:
    """``build --local --builder=kaniko`` of ``dockerfile``, to a repository named after the test."""
    context = write_context(tmp_path / "context", dockerfile)
    name = tmp_path.name.lower().replace("_", "-").strip("-")
    destination = f"{registry.host}/kaniko/{name}:1"
    return local_build(
        tmp_path,
        context,
        hub=hub,
        destinations=[destination],
        builder="kaniko",
        kaniko_executor=_executor(),
        **options,
    )


def _failed_as(built: Built, case: str, kind: FailureKind) -> None:
    tail = assert_build_failed_as(built, KANIKO, case, kind)
    # The rendered retry rule reads the same lines the same way (Argo's status for a failed main: Failed).
    retried = evaluate(KANIKO.failures.retry_expression(), last_retry(message=tail))
    assert retried is (kind is FailureKind.TRANSIENT)


RUN_ECHO = "FROM busybox:1.36\nRUN echo hi\n"
FAULT_CASES = [
    # (case, fault on the mirror: blobs and manifests by digest are fetched by kaniko alone, not prefetch)
    ("blob-503-json", Fault("status", path="/blobs/", status=503), FailureKind.TRANSIENT),
    ("blob-500-json", Fault("status", path="/blobs/", status=500), FailureKind.TRANSIENT),
    ("blob-429", Fault("status", path="/blobs/", status=429), FailureKind.TRANSIENT),
    ("blob-reset", Fault("reset", path="/blobs/", body_bytes=100), FailureKind.TRANSIENT),
    ("blob-401", Fault("status", path="/blobs/", status=401), FailureKind.DETERMINISTIC),
    ("manifest-404", Fault("status", path="/manifests/sha256:", status=404), FailureKind.DETERMINISTIC),
]


@pytest.mark.parametrize(("case", "fault", "kind"), FAULT_CASES, ids=[c[0] for c in FAULT_CASES])
def test_kaniko_registry_failures_are_classified_from_its_real_lines(
    tmp_path: Path,
    shell_hub: Registry,
    shell_images: dict[str, OCIImage],
    plain_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
    case: str,
    fault: Fault,
    kind: FailureKind,
) -> None:
    mirror = fault_proxy(shell_hub, fault, name=f"mirror-{case}")
    built = _kaniko_build(tmp_path, RUN_ECHO, hub=shell_hub, registry=plain_registry, mirrors=[mirror.host])
    _failed_as(built, case, kind)


def test_a_pull_through_cache_whose_upstream_fails_is_a_transient_failure(
    tmp_path: Path,
    shell_hub: Registry,
    shell_images: dict[str, OCIImage],
    plain_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
) -> None:
    """The cache answers manifests from upstream; its blob fetch upstream is cut: kaniko sees EOF."""
    upstream = fault_proxy(shell_hub, Fault("reset", path="/blobs/"), name="upstream-blobs-reset")
    with start_registry(tmp_path / "pull-through", name="pull-through", proxy_remote=upstream.url) as cache:
        built = _kaniko_build(
            tmp_path, RUN_ECHO, hub=shell_hub, registry=plain_registry, mirrors=[cache.host]
        )
    _failed_as(built, "pull-through-upstream-reset", FailureKind.TRANSIENT)


@pytest.mark.parametrize(
    ("case", "dockerfile"),
    [
        ("run-fails", "FROM busybox:1.36\nRUN echo about to fail && false\n"),
        ("copy-missing", "FROM busybox:1.36\nCOPY no-such-file /x\n"),
    ],
)
def test_kaniko_build_failures_are_not_retried(
    tmp_path: Path,
    shell_hub: Registry,
    shell_images: dict[str, OCIImage],
    plain_registry: Registry,
    case: str,
    dockerfile: str,
) -> None:
    built = _kaniko_build(tmp_path, dockerfile, hub=shell_hub, registry=plain_registry)
    _failed_as(built, case, FailureKind.DETERMINISTIC)


def test_a_hung_registry_ends_at_the_build_deadline_and_may_be_retried(
    tmp_path: Path,
    shell_hub: Registry,
    shell_images: dict[str, OCIImage],
    plain_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
) -> None:
    """kaniko sets no request timeout: only the deadline ends it (in a pod, activeDeadlineSeconds)."""
    hung = fault_proxy(shell_hub, Fault("hang", path="/blobs/"), name="hung-blobs")
    built = _kaniko_build(
        tmp_path, RUN_ECHO, hub=shell_hub, registry=plain_registry, mirrors=[hung.host], build_timeout=8
    )
    assert (built.result.failed_step, built.result.exit_code) == ("build", EXIT_TRANSIENT), built.output
    assert "did not finish within 8s" in built.result.message
    # In a cluster the kubelet's message says it, and the retry rule accepts it.
    assert evaluate(KANIKO.failures.retry_expression(), last_retry(message=POD_DEADLINE_MESSAGE))


def test_kaniko_keeps_every_context_file_under_workdir_workspace(
    tmp_path: Path, shell_hub: Registry, shell_images: dict[str, OCIImage], plain_registry: Registry
) -> None:
    """The old /workspace mounts hid out/, image/, context/ of such a build (kaniko ignores mount points)."""
    files = {name: f"{name}\n" for name in ("out/a.txt", "image/b.txt", "context/c.txt", "pinned/d.txt")}
    dockerfile = "FROM busybox:1.36\nWORKDIR /workspace\nCOPY . .\nRUN cat out/a.txt image/b.txt\n"
    context = write_context(tmp_path / "context", dockerfile, files)
    built = local_build(
        tmp_path,
        context,
        hub=shell_hub,
        destinations=[f"{plain_registry.host}/kaniko/workspace:1"],
        builder="kaniko",
        kaniko_executor=_executor(),
    )
    assert built.result.exit_code == EXIT_OK, built.output
    _, content = image_content(built.work / "build" / "image")
    for name in files:
        assert f"/workspace/{name}" in content, sorted(content)
