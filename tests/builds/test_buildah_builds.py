"""prefetch -> buildah -> push for real, on real registries, with faults at each stage.

Every build here runs buildah as root (``--isolation chroot``, vfs storage), RUN lines included,
between the real ``hera-imagebuild prefetch`` and ``push`` processes that ``build --local`` starts
with the pods' argv. Base images are busybox-static stand-ins for Docker Hub images, served by a
local registry acting as the Docker Hub mirror (fallback to Docker Hub is off: no network).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from build_helpers import assert_build_failed_as, image_content, local_build, write_context
from real_builds import needs_buildah

from hera_imagebuild.builders import BUILDAH
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_OK, EXIT_TRANSIENT, FailureKind
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy
from hera_imagebuild.sandbox.images import OCIImage
from hera_imagebuild.sandbox.registry import Registry
from hera_imagebuild.sandbox.run_image import run_image

pytestmark = [needs_buildah, pytest.mark.timeout(180)]

MULTI_STAGE = """\
ARG RUNTIME=1.36
ARG NOTE=default-note
FROM busybox:1.36 AS builder
ARG NOTE
WORKDIR /src
COPY . .
RUN mkdir -p /out && echo "note=$NOTE" > /out/note.txt && cat input.txt >> /out/note.txt
FROM busybox:${RUNTIME}
ARG NOTE
ENV NOTE_ENV=$NOTE
WORKDIR /workspace
COPY --from=builder /out/ /app/
COPY --from=busybox:1.37 /etc/os-release /app/other-release
COPY . .
RUN cp /etc/os-release /app/runtime-release
CMD ["cat", "/app/note.txt"]
"""
FILES = {"input.txt": "from the context\n", "out/kept.txt": "out\n", "image/kept.txt": "image\n"}


@pytest.fixture
def destination(plain_registry: Registry, request: pytest.FixtureRequest) -> str:
    name = request.node.name.lower().replace("_", "-")[:60].strip("-[]")
    return f"{plain_registry.host}/builds/{name}:1"


def _run(reference: str, *command: str) -> str:
    return run_image(reference, insecure=True, command=list(command) or None)


def test_multi_stage_build_with_copy_from_image_and_a_build_arg_read_back_from_the_pushed_image(
    tmp_path: Path, shell_hub: Registry, shell_images: dict[str, OCIImage], destination: str
) -> None:
    context = write_context(tmp_path / "context", MULTI_STAGE, FILES)
    built = local_build(
        tmp_path,
        context,
        hub=shell_hub,
        destinations=[destination],
        build_args={"NOTE": "from --build-arg", "RUNTIME": "1.37"},
        labels={"team": "ml-platform"},
    )
    assert built.result.exit_code == EXIT_OK, built.output
    (ref,) = built.result.image_refs
    assert ref == f"{destination.rpartition(':')[0]}@{built.result.digest}"
    pinned = {image["original"]: image["digest"] for image in built.prefetch_report["images"]}
    assert pinned == {
        "docker.io/library/busybox:1.36": shell_images["library/busybox:1.36"].digest,
        "docker.io/library/busybox:1.37": shell_images["library/busybox:1.37"].digest,
    }
    # The image's own command prints what a RUN step wrote from the build arg and the context.
    assert _run(ref) == "note=from --build-arg\nfrom the context\n"
    assert "VERSION_ID=1.37" in _run(ref, "cat", "/app/runtime-release")  # ARG chose the runtime base
    assert "VERSION_ID=1.37" in _run(ref, "cat", "/app/other-release")  # COPY --from=<image>
    # Nothing of the context is lost to a mount (WORKDIR /workspace, COPY . .).
    assert _run(ref, "cat", "/workspace/out/kept.txt", "/workspace/image/kept.txt") == "out\nimage\n"
    outputs = tmp_path / "outputs"
    assert json.loads((outputs / "image-refs.json").read_text()) == [ref]
    assert (outputs / "digest").read_text() == built.result.digest
    base_images = json.loads((outputs / "base-images.json").read_text())
    assert {b["original"] for b in base_images} == set(pinned)


def test_the_pinned_dockerfile_builds_the_same_image_as_the_original_with_build_arg_and_label_flags(
    tmp_path: Path, shell_hub: Registry, shell_images: dict[str, OCIImage], destination: str
) -> None:
    """prefetch bakes build args and labels into the Dockerfile; the result equals kaniko-style flags."""
    context = write_context(tmp_path / "context", MULTI_STAGE, FILES)
    build_args = {"NOTE": "equivalence", "RUNTIME": "1.37"}
    built = local_build(
        tmp_path, context, hub=shell_hub, destinations=[destination], build_args=build_args, labels={"a": "b"}
    )
    assert built.result.exit_code == EXIT_OK, built.output
    labels = built.prefetch_report["labels"]  # ours plus the org.opencontainers.image.* ones prefetch adds
    assert labels["a"] == "b"

    # The original Dockerfile, built the way the flags would build it, with the same mirror.
    reference = tmp_path / "reference"
    store = ["buildah", f"--root={reference}/root", f"--runroot={reference}/run", "--storage-driver=vfs"]
    env = {"CONTAINERS_REGISTRIES_CONF": str(built.work / "prefetch" / BUILDAH.registry_config_file)}
    flags = [f"--build-arg={k}={v}" for k, v in build_args.items()]
    flags += [f"--label={k}={v}" for k, v in labels.items()]
    command = [*store, "build", "--isolation=chroot", *flags, "--tag=localhost/reference", str(context)]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)
    layout = reference / "layout"
    push = [*store, "push", "--format=oci", "localhost/reference", f"oci:{layout}:latest"]
    subprocess.run(push, check=True, capture_output=True, timeout=60)

    pinned_config, pinned_files = image_content(built.work / "build" / "image")
    original_config, original_files = image_content(layout)
    assert pinned_config == original_config
    assert "NOTE_ENV=equivalence" in pinned_config["Env"]
    assert pinned_files == original_files
    assert pinned_files["/app/note.txt"][0] == "file"


def test_a_hung_mirror_costs_one_probe_and_the_build_never_asks_it(
    tmp_path: Path,
    shell_hub: Registry,
    shell_images: dict[str, OCIImage],
    fault_proxy: Callable[..., FaultProxy],
    destination: str,
) -> None:
    hung = fault_proxy(shell_hub, Fault("hang"), name="hung-mirror")
    context = write_context(tmp_path / "context", MULTI_STAGE, FILES)
    built = local_build(
        tmp_path,
        context,
        hub=shell_hub,
        destinations=[destination],
        mirrors=[hung.host, shell_hub.host],
        probe_timeout=0.5,
    )
    assert built.result.exit_code == EXIT_OK, built.output
    probes = len(hung.requests)
    assert probes >= 2  # prefetch probed it for both images ...
    for image in built.prefetch_report["images"]:
        assert [s["outcome"] for s in image["sources"]] == ["failed", "chosen"]
    # ... and the registry config sent the build past it: buildah made no request there.
    conf = (built.work / "prefetch" / BUILDAH.registry_config_file).read_text()
    docker_hub = conf[conf.index('prefix = "docker.io"') :].split("\n\n")[0]
    assert hung.host not in docker_hub
    assert len(hung.requests) == probes


def test_a_base_registry_answering_503_fails_the_build_as_transient(
    tmp_path: Path,
    shell_hub: Registry,
    shell_images: dict[str, OCIImage],
    fault_proxy: Callable[..., FaultProxy],
    destination: str,
) -> None:
    """Manifests answer (prefetch pins), blobs answer 503: the builder's pull fails, and a retry may help."""
    flaky = fault_proxy(shell_hub, Fault("status", path="/blobs/", status=503), name="blobs-503")
    context = write_context(tmp_path / "context", "FROM busybox:1.36\nRUN echo hi\n")
    built = local_build(tmp_path, context, hub=shell_hub, destinations=[destination], mirrors=[flaky.host])
    assert_build_failed_as(built, BUILDAH, "blob-503", FailureKind.TRANSIENT)


def test_a_destination_resetting_mid_blob_is_retried_by_push_and_the_build_is_not_repeated(
    tmp_path: Path,
    shell_hub: Registry,
    shell_images: dict[str, OCIImage],
    plain_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
) -> None:
    resetting = fault_proxy(
        plain_registry,
        Fault("sever", method="PATCH", path="/blobs/uploads/", body_bytes=65536, times=1),
        name="reset-mid-blob",
    )
    context = write_context(tmp_path / "context", "FROM busybox:1.36\nRUN echo built > /built.txt\n")
    built = local_build(tmp_path, context, hub=shell_hub, destinations=[f"{resetting.host}/builds/reset:1"])
    assert built.result.exit_code == EXIT_OK, built.output
    assert any(r.fault == "sever" for r in resetting.requests)
    report = json.loads((tmp_path / "outputs" / "report.json").read_text())
    assert report["push"]["retries"] >= 1
    assert built.output.count("== build") == 1


@pytest.mark.parametrize(
    ("case", "dockerfile", "failed_step"),
    [
        ("run-fails", "FROM busybox:1.36\nRUN echo about to fail && false\n", "build"),
        ("copy-missing", "FROM busybox:1.36\nCOPY no-such-file /x\n", "build"),
        # prefetch parses the Dockerfile first and names the line; the builder never runs.
        ("unknown-instruction", "FROM busybox:1.36\nRUNN echo typo\n", "prefetch"),
    ],
)
def test_failures_a_retry_cannot_cure_exit_1_with_the_builders_line(
    tmp_path: Path,
    shell_hub: Registry,
    shell_images: dict[str, OCIImage],
    destination: str,
    case: str,
    dockerfile: str,
    failed_step: str,
) -> None:
    context = write_context(tmp_path / "context", dockerfile)
    built = local_build(tmp_path, context, hub=shell_hub, destinations=[destination])
    assert (built.result.failed_step, built.result.exit_code) == (failed_step, EXIT_FAILED), built.output
    assert "\n" not in built.result.message
    assert not (tmp_path / "outputs").exists()
    if failed_step == "prefetch":
        assert built.result.message.startswith("prefetch failed: Dockerfile line 2: ")
        return
    assert_build_failed_as(built, BUILDAH, case, FailureKind.DETERMINISTIC)
    assert built.result.message.startswith("build failed (buildah): ")
    assert not (tmp_path / "outputs").exists()


def test_a_dockerfile_prefetch_cannot_parse_fails_before_the_builder_runs(
    tmp_path: Path, shell_hub: Registry, destination: str
) -> None:
    context = write_context(tmp_path / "context", "FROM busybox:1.36 AS\n")
    built = local_build(tmp_path, context, hub=shell_hub, destinations=[destination])
    assert (built.result.failed_step, built.result.exit_code) == ("prefetch", EXIT_FAILED), built.output
    assert built.result.message.startswith("prefetch failed: ")
    assert "== build" not in built.output


def test_a_build_past_its_deadline_is_stopped_and_may_be_retried(
    tmp_path: Path, shell_hub: Registry, shell_images: dict[str, OCIImage], destination: str
) -> None:
    context = write_context(tmp_path / "context", "FROM busybox:1.36\nRUN sleep 60\n")
    built = local_build(tmp_path, context, hub=shell_hub, destinations=[destination], build_timeout=3)
    assert (built.result.failed_step, built.result.exit_code) == ("build", EXIT_TRANSIENT), built.output
    assert "did not finish within 3s" in built.result.message
