"""Holding a kaniko executor on a workstation the way a pod holds it.

kaniko treats the root it runs in as the image's: it unpacks base images over
it and snapshots it. So it runs as root in its own mount and PID namespaces
(``unshare --mount --pid --fork``), chrooted into a throwaway root that holds
only the executor, the CA bundle and the build's volumes. The volumes are
bind mounts at the build pod's mount paths (:data:`KANIKO.paths`), so kaniko
sees mount points exactly where the pod has them and leaves them out of the
image as it does there.

:func:`sandboxed_argv` is called on the host; ``python -m
hera_imagebuild.local.kaniko_sandbox`` is the part that runs inside the new
namespaces, mounts the volumes, chroots and execs the executor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hera_imagebuild.builders import KANIKO

_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
SANDBOX_CA_DIR = "/kaniko/ssl/certs"
"""Where the kaniko image keeps its CA bundle (its ``SSL_CERT_DIR``)."""


@dataclass(frozen=True)
class Bind:
    """A host path mounted at ``target`` inside the sandbox."""

    source: Path
    target: str
    read_only: bool = False

    def flag(self) -> str:
        """``--bind SOURCE:TARGET[:ro]`` for the inner entrypoint (paths never contain ':' here)."""
        return f"{self.source}:{self.target}{':ro' if self.read_only else ''}"


def _system_ca_bundle() -> Path | None:
    return next((Path(p) for p in _CA_BUNDLES if Path(p).is_file()), None)


def sandboxed_argv(
    argv: Sequence[str], *, executor: Path, root: Path, binds: Sequence[Bind], env_names: Sequence[str]
) -> list[str]:
    """The host command line that runs kaniko's ``argv`` in the sandbox rooted at ``root``.

    Args:
        argv: kaniko's command line, starting with :attr:`KANIKO.executor`.
        executor: The executor binary on the host (copied into the root).
        root: An empty scratch directory for the throwaway root.
        binds: The build's volumes.
        env_names: Variables of the caller's environment that kaniko gets (the rest it does not).
    """
    for bind in binds:
        if ":" in str(bind.source) or ":" in bind.target:
            raise ValueError(f"--context: {str(bind.source)!r}: a path with ':' cannot be mounted here")
    extra = []
    bundle = _system_ca_bundle()
    if bundle is not None:
        extra.append(Bind(bundle, f"{SANDBOX_CA_DIR}/ca-certificates.crt", read_only=True))
    return [
        "unshare",
        "--mount",
        "--pid",
        "--fork",
        "--kill-child",
        "--",
        sys.executable,
        "-m",
        __name__,
        f"--root={root}",
        f"--executor={executor}",
        *(f"--bind={bind.flag()}" for bind in (*binds, *extra)),
        *(f"--pass-env={name}" for name in env_names),
        "--",
        *argv,
    ]


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True)


def _enter(root: Path, executor: Path, binds: list[tuple[Path, str, bool]]) -> None:
    """Inside the new namespaces: build the root, mount what the pod mounts, chroot into it."""
    _mount("--make-rprivate", "/")  # nothing mounted here leaks back to the host
    target = root / KANIKO.executor.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executor, target)
    for sub in ("proc", "dev", "tmp", "etc", "root"):
        (root / sub).mkdir(exist_ok=True)
    _mount("-t", "proc", "proc", str(root / "proc"))
    _mount("--rbind", "/dev", str(root / "dev"))
    for source, inside, read_only in binds:
        mount_point = root / inside.lstrip("/")
        if source.is_dir():
            mount_point.mkdir(parents=True, exist_ok=True)
        else:
            mount_point.parent.mkdir(parents=True, exist_ok=True)
            mount_point.touch()
        _mount("--bind", str(source), str(mount_point))
        if read_only:
            _mount("-o", "remount,bind,ro", str(mount_point))
    os.chroot(root)
    os.chdir("/")


def main(argv: Sequence[str] | None = None) -> int:
    """The inner entrypoint: set up the root, then exec kaniko (never returns on success)."""
    parser = argparse.ArgumentParser(prog="kaniko_sandbox", allow_abbrev=False)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--executor", type=Path, required=True)
    parser.add_argument("--bind", action="append", default=[])
    parser.add_argument("--pass-env", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    binds = []
    for flag in args.bind:
        source, _, rest = flag.partition(":")
        inside, _, mode = rest.partition(":")
        binds.append((Path(source), inside, mode == "ro"))
    _enter(args.root, args.executor, binds)
    # The kaniko image's own environment, plus what the step sets.
    env = {"PATH": "/usr/local/bin:/kaniko", "HOME": "/root", "USER": "root", "SSL_CERT_DIR": SANDBOX_CA_DIR}
    env.update({name: os.environ[name] for name in args.pass_env if name in os.environ})
    os.execve(command[0], command, env)  # noqa: S606 (kaniko itself, with the argv it was given)
    return 1  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
