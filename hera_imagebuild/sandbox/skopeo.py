"""skopeo, isolated: the image loader of the tests and the baseline of the benchmarks.

skopeo keeps state outside the command line that would leak between tests:
a blob-info cache (as root in ``/var/lib/containers/cache``, which makes a
second copy skip blobs it believes are already at the destination), the system
``registries.conf`` (mirrors, short names), the signature policy, and default
credential files. :class:`Skopeo` gives every instance its own copy of all of
them under its work directory:

* ``_CONTAINERS_ROOTLESS_UID`` (the variable podman sets for its children) makes
  containers/image treat the process as rootless, so it puts the blob-info
  cache under ``$XDG_DATA_HOME/containers/cache`` instead of the system path;
  ``XDG_DATA_HOME`` points into the work directory (``tests/sandbox`` checks
  that the cache lands there and nowhere else);
* ``CONTAINERS_REGISTRIES_CONF`` points at an empty ``registries.conf``;
* ``--policy`` points at an accept-anything policy of our own;
* ``HOME``, ``XDG_RUNTIME_DIR`` and ``XDG_CONFIG_HOME`` are private, and
  ``REGISTRY_AUTH_FILE``/``DOCKER_CONFIG`` are removed, so credentials come only
  from what a call passes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hera_imagebuild.sandbox.credentials import Credentials, write_docker_config
from hera_imagebuild.sandbox.images import OCIImage
from hera_imagebuild.sandbox.process import require_binary, run_checked
from hera_imagebuild.sandbox.registry import Registry

__all__ = ["Skopeo"]

_DROPPED_ENV = ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "CONTAINERS_CONF", "CONTAINERS_REGISTRIES_CONF")


class Skopeo:
    """Runs skopeo with private caches and configuration under ``workdir``."""

    def __init__(self, workdir: Path, *, command_timeout: float = 60.0) -> None:
        """Prepare the private configuration.

        Args:
            workdir: A directory of its own (created if missing).
            command_timeout: skopeo's ``--command-timeout`` in seconds; the process
                is also killed a few seconds after it.
        """
        self.binary = require_binary("skopeo", "Debian package skopeo")
        self.workdir = workdir
        self.command_timeout = command_timeout
        for sub in ("home", "data", "config", "run", "tmp"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        (workdir / "run").chmod(0o700)
        self.policy = workdir / "policy.json"
        self.policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
        self.registries_conf = workdir / "registries.conf"
        self.registries_conf.write_text("# hera-imagebuild sandbox: no mirrors, no short names\n")
        self.blob_info_cache_dir = workdir / "data" / "containers" / "cache"
        """Where skopeo keeps its blob-info cache for this instance."""

    def env(self) -> dict[str, str]:
        """The environment every skopeo call of this instance runs with."""
        env = {key: value for key, value in os.environ.items() if key not in _DROPPED_ENV}
        env |= {
            "_CONTAINERS_ROOTLESS_UID": "1000",
            "HOME": str(self.workdir / "home"),
            "XDG_DATA_HOME": str(self.workdir / "data"),
            "XDG_CONFIG_HOME": str(self.workdir / "config"),
            "XDG_RUNTIME_DIR": str(self.workdir / "run"),
            "CONTAINERS_REGISTRIES_CONF": str(self.registries_conf),
            "TMPDIR": str(self.workdir / "tmp"),
        }
        return env

    def run(self, args: Sequence[str], *, timeout: float | None = None) -> str:
        """Run ``skopeo ARGS`` (policy and command timeout added) and return its stdout.

        Raises:
            SandboxError: If skopeo fails or overruns; the message carries its stderr.
        """
        limit = self.command_timeout if timeout is None else timeout
        argv = [self.binary, "--policy", str(self.policy), "--command-timeout", f"{limit:g}s", *args]
        return run_checked(argv, timeout=limit + 10, env=self.env())

    def _auth_args(
        self,
        side: str,
        registry: Registry | None,
        credentials: Credentials | None,
        authfile: Path | None,
        scratch: Path,
    ) -> list[str]:
        """TLS and credential flags for one side (``src``/``dest``/``""``) of a command.

        Credentials go into an auth file in ``scratch``, a directory removed after the command.
        """
        prefix = f"--{side}-" if side else "--"
        args: list[str] = []
        if registry is not None:
            if registry.tls:
                args.append(f"{prefix}cert-dir={registry.tls.cert_dir}")
            else:
                args.append(f"{prefix}tls-verify=false")
        if credentials is not None:
            if registry is None:
                raise ValueError("credentials: also pass the registry they are for")
            authfile = write_docker_config(
                scratch / f"{side or 'registry'}-auth.json", {registry.host: credentials}
            )
        if authfile is not None:
            args.append(f"{prefix}authfile={authfile}")
        return args

    def copy(
        self,
        source: str,
        destination: str,
        *,
        src_registry: Registry | None = None,
        dest_registry: Registry | None = None,
        src_credentials: Credentials | None = None,
        dest_credentials: Credentials | None = None,
        src_authfile: Path | None = None,
        dest_authfile: Path | None = None,
        all_images: bool = True,
        timeout: float | None = None,
    ) -> None:
        """``skopeo copy SOURCE DESTINATION`` keeping digests (``--preserve-digests``).

        A registry argument adds its TLS flags (its CA cert dir, or plain HTTP);
        credentials are passed through a private auth file, never the command line.
        """
        args = ["copy", "--preserve-digests", "--retry-times=0"]
        if all_images:
            args.append("--all")
        with self._scratch() as scratch:
            args += self._auth_args("src", src_registry, src_credentials, src_authfile, scratch)
            args += self._auth_args("dest", dest_registry, dest_credentials, dest_authfile, scratch)
            self.run([*args, source, destination], timeout=timeout)

    def push(
        self,
        image: OCIImage,
        registry: Registry,
        repository: str,
        tag: str | None = None,
        *,
        credentials: Credentials | None = None,
        authfile: Path | None = None,
    ) -> str:
        """Copy ``image`` (all platforms) to ``registry/repository:tag`` and return that reference.

        Without explicit credentials the registry's first user is used, if it has users.
        """
        if credentials is None and authfile is None and registry.users:
            credentials = next(iter(registry.users.values()))
        reference = f"{registry.host}/{repository}:{tag or image.tag}"
        self.copy(
            image.oci_ref,
            f"docker://{reference}",
            dest_registry=registry,
            dest_credentials=credentials,
            dest_authfile=authfile,
        )
        return reference

    def inspect(
        self,
        reference: str,
        *,
        registry: Registry | None = None,
        credentials: Credentials | None = None,
        authfile: Path | None = None,
        raw: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """``skopeo inspect docker://REFERENCE`` parsed as JSON (``raw``: the manifest itself)."""
        with self._scratch() as scratch:
            args = ["inspect", *self._auth_args("", registry, credentials, authfile, scratch)]
            if raw:
                args.append("--raw")
            return json.loads(self.run([*args, f"docker://{reference}"], timeout=timeout))

    @contextlib.contextmanager
    def _scratch(self) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="call-", dir=self.workdir / "run") as name:
            yield Path(name)
