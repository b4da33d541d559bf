"""What the tests that build images for real need: buildah as root, busybox-static, a kaniko executor.

CI installs buildah and busybox-static (``scripts/install-system-packages.sh``) and runs as root, so
these tests run there; the kaniko suite needs an executor binary that CI cannot build, named by
``$HERA_IMAGEBUILD_KANIKO_EXECUTOR`` (docs/builders.md: where an executor binary comes from).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hera_imagebuild.local.build import KANIKO_EXECUTOR_ENV
from hera_imagebuild.sandbox.images import BUSYBOX


def _buildah_missing() -> str | None:
    if shutil.which("buildah") is None:
        return "buildah is not installed (apt-get install buildah; .ci/run installs it)"
    if not BUSYBOX.is_file():
        return f"{BUSYBOX} is missing (apt-get install busybox-static; .ci/run installs it)"
    if os.geteuid() != 0:
        return "buildah builds as root here; run the tests as root (CI does)"
    return None


def _kaniko_missing() -> str | None:
    executor = os.environ.get(KANIKO_EXECUTOR_ENV)
    if not executor:
        return f"no kaniko executor: set {KANIKO_EXECUTOR_ENV}=PATH of an executor binary (docs/builders.md)"
    if not os.access(executor, os.X_OK) or not Path(executor).is_file():
        return f"{KANIKO_EXECUTOR_ENV}={executor!r} is not an executable file"
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return "kaniko runs as root inside unshare here; run as root with util-linux"
    return None


BUILDAH_MISSING = _buildah_missing()
KANIKO_MISSING = _kaniko_missing()
needs_buildah = pytest.mark.skipif(BUILDAH_MISSING is not None, reason=str(BUILDAH_MISSING))
needs_kaniko = pytest.mark.skipif(KANIKO_MISSING is not None, reason=str(KANIKO_MISSING))
