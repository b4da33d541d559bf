"""push reads a layout whose files it may not read: a clear, deterministic failure before any upload.

kaniko writes layer blobs 0600 as root; a push step running as another user without the template's
fix (the artifact's ``mode``) cannot read them. The same files fail every attempt, so the step exits
1 (not 75: retrying pods would only fail again) and names the file's mode, owner and its own uid.
Runs push as uid 65532 (the runtime image's user) with no capability, which needs root to arrange.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hera_imagebuild.common.failures import EXIT_FAILED
from hera_imagebuild.local.process import run_bounded
from hera_imagebuild.sandbox.faultproxy import FaultProxy
from hera_imagebuild.sandbox.images import OCIImage, write_image
from hera_imagebuild.sandbox.registry import Registry

RUNTIME_UID = 65532

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv (util-linux) to run push as another user; CI runs as root",
)


def test_an_unreadable_layer_fails_push_with_exit_1_before_any_upload(
    shared_dir: Path, plain_registry: Registry, fault_proxy: Callable[..., FaultProxy]
) -> None:
    image: OCIImage = write_image(shared_dir / "layout", seed="permissions", layer_sizes=(4096, 2048))
    for path in [shared_dir / "layout", *(shared_dir / "layout").rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    layer = shared_dir / "layout" / "blobs" / "sha256" / image.layer_digests[0].removeprefix("sha256:")
    layer.chmod(0o600)  # as kaniko writes it, owned by root
    out = shared_dir / "out"
    out.mkdir()
    os.chown(out, RUNTIME_UID, RUNTIME_UID)
    proxy = fault_proxy(plain_registry)
    user = [f"--reuid={RUNTIME_UID}", f"--regid={RUNTIME_UID}", "--clear-groups"]
    caps = ["--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all"]
    argv = [
        "setpriv",
        *user,
        *caps,
        sys.executable,
        "-m",
        "hera_imagebuild.cli.main",
        "push",
        f"--image={shared_dir / 'layout'}",
        f"--destination={proxy.host}/perm/app:1",
        f"--insecure-registry={proxy.host}",
        f"--output-dir={out}",
        "--timeout=60",
    ]
    env = {**os.environ, "DOCKER_CONFIG": str(shared_dir / "no-docker-config")}
    finished = run_bounded(argv, timeout=120, env=env)
    assert finished.returncode == EXIT_FAILED, finished.tail
    last = finished.tail.strip().splitlines()[-1]
    assert last.startswith("push failed: ")
    assert "cannot read it (Permission denied)" in last
    assert f"it is mode 0600, owner uid 0, and this step runs as uid {RUNTIME_UID}" in last
    assert "Traceback" not in finished.tail
    assert proxy.requests == []  # refused before a single request
    assert list(out.iterdir()) == []
