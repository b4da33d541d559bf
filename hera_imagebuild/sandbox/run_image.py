"""Running a pushed image's command for real, with buildah, to show (and test) what was built.

``buildah from`` pulls the image by digest into a private vfs store, and
``buildah run --isolation chroot`` runs its configured command (entrypoint
and cmd) in it; the store is thrown away afterwards. Needs root.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hera_imagebuild.sandbox.process import require_binary, run_checked

__all__ = ["run_image"]


def run_image(
    reference: str,
    *,
    authfile: Path | None = None,
    cert_dir: Path | None = None,
    insecure: bool = False,
    command: Sequence[str] | None = None,
    timeout: float = 60.0,
) -> str:
    """Pull ``reference`` and run its command (or ``command``); return what it printed.

    Raises:
        SandboxError: If buildah is missing, the pull fails or the command exits non-zero.
    """
    buildah = require_binary("buildah", "Debian package buildah")
    with tempfile.TemporaryDirectory(prefix="hera-imagebuild-run-") as name:
        store = [buildah, f"--root={name}/root", f"--runroot={name}/run", "--storage-driver=vfs"]
        access = [f"--authfile={authfile}"] if authfile else []
        access += [f"--cert-dir={cert_dir}"] if cert_dir else []
        access += ["--tls-verify=false"] if insecure else []
        container = run_checked(
            [*store, "from", "--quiet", *access, f"docker://{reference}"], timeout=timeout
        )
        container = container.strip().splitlines()[-1]
        if command is None:
            config = json.loads(
                run_checked([*store, "inspect", "--type=container", container], timeout=timeout)
            )
            oci = config["OCIv1"]["config"]
            command = [*(oci.get("Entrypoint") or []), *(oci.get("Cmd") or [])]
        return run_checked([*store, "run", "--isolation=chroot", container, "--", *command], timeout=timeout)
