"""Helpers for the real-build suites: a build context, a local build, and what an image holds.

``image_content`` flattens an OCI layout the way a container runtime would (layers in order,
whiteouts applied) into the config a container starts with and every file's type, mode and
content hash: two images that agree there behave the same, whatever their history says.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hera_imagebuild.builders import Builder
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_TRANSIENT, FailureKind
from hera_imagebuild.local.build import LocalBuild, LocalResult, build_locally
from hera_imagebuild.sandbox.registry import Registry

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "builder-output"
"""Builders' real last lines, one file per case, with the classification in ``cases.json``."""
RECORD_ENV = "HERA_IMAGEBUILD_RECORD_BUILDER_OUTPUT"
"""Set to 1 to (re)write the captured lines from a real run into :data:`DATA_DIR`."""
CONFIG_KEYS = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes")


def write_context(directory: Path, dockerfile: str, files: Mapping[str, str] = {}) -> Path:
    """A build context: ``Dockerfile`` and ``files`` (relative path -> text)."""
    directory.mkdir(parents=True)
    (directory / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


@dataclass(frozen=True)
class Built:
    """A local build's result and what it printed."""

    result: LocalResult
    output: str
    work: Path

    @property
    def prefetch_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.work / "prefetch" / "report.json").read_text())
        return report


def local_build(
    tmp_path: Path,
    context: Path,
    *,
    hub: Registry,
    destinations: list[str],
    mirrors: list[str] | None = None,
    insecure: list[str] = (),  # type: ignore[assignment]
    **options: Any,
) -> Built:
    """Build ``context`` with :func:`build_locally`; base images from ``hub`` or ``mirrors``, no fallback."""
    sources = mirrors if mirrors is not None else [hub.host]
    hosts = {hub.host, *(m.partition("/")[0] for m in sources), *(d.partition("/")[0] for d in destinations)}
    work = tmp_path / "work"
    stream = io.StringIO()
    build = LocalBuild(
        context=context,
        destinations=destinations,
        output_dir=tmp_path / "outputs",
        mirrors={"docker.io": sources},
        fallback=False,
        insecure_registries=sorted({*hosts, *insecure}),
        workdir=work,
        **options,
    )
    return Built(build_locally(build, out=stream), stream.getvalue(), work)


def image_content(layout: Path) -> tuple[dict[str, Any], dict[str, tuple[str, int, str]]]:
    """The runtime config (:data:`CONFIG_KEYS`) and files (path -> type, mode, content) of an image."""
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(_blob(layout, index["manifests"][0]["digest"]))
    config = json.loads(_blob(layout, manifest["config"]["digest"]))
    files: dict[str, tuple[str, int, str]] = {}
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(_blob(layout, layer["digest"])))) as tar:
            for member in tar.getmembers():
                path = "/" + member.name.lstrip("./").rstrip("/")
                directory, name = os.path.split(path)
                if name.startswith(".wh."):
                    gone = os.path.join(directory, name.removeprefix(".wh."))
                    files = {p: f for p, f in files.items() if p != gone and not p.startswith(gone + "/")}
                    continue
                content = member.linkname
                if member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    content = hashlib.sha256(extracted.read()).hexdigest()
                files[path] = (
                    "dir" if member.isdir() else "file" if member.isfile() else "link",
                    member.mode,
                    content,
                )
    runtime = {key: config.get("config", {}).get(key) for key in CONFIG_KEYS}
    return runtime, files


def _blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


def record_output(builder: str, case: str, tail: str, kind: FailureKind | None) -> None:
    """Keep a builder's real last lines as test data (only when :data:`RECORD_ENV` is set)."""
    if os.environ.get(RECORD_ENV) != "1":
        return
    directory = DATA_DIR / builder
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{case}.txt").write_text(tail.rstrip("\n") + "\n")
    index_path = DATA_DIR / "cases.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    index.setdefault(builder, {})[case] = kind.value if kind else None
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")


def assert_build_failed_as(built: Built, builder: Builder, case: str, kind: FailureKind) -> str:
    """The build step failed, its real last lines classify as ``kind`` (kept as test data), and the
    exit code says whether a retry may help. Returns the lines."""
    assert built.result.failed_step == "build", built.output
    tail = built.result.log_tail
    found = builder.failures.classify(tail)
    record_output(builder.name, case, tail, found)
    assert found is kind, tail
    assert built.result.exit_code == (EXIT_TRANSIENT if kind is FailureKind.TRANSIENT else EXIT_FAILED)
    assert not (built.work.parent / "outputs").exists()  # nothing half-written
    return tail
