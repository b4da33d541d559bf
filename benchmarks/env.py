"""A benchmark's sandbox: registries, fault proxies, images and skopeo in one scratch directory.

Everything started through a :class:`BenchEnv` is stopped, and its directory
removed, when the ``with`` block ends, whatever happened inside.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy
from hera_imagebuild.sandbox.images import OCIImage, write_image
from hera_imagebuild.sandbox.registry import Registry, start_registry
from hera_imagebuild.sandbox.skopeo import Skopeo

MB = 1_000_000


class BenchEnv:
    """Owns a scratch directory and every process a benchmark starts in it."""

    def __init__(self, name: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=f"hera-imagebuild-bench-{name}-"))
        self._stack = contextlib.ExitStack()
        self._counter = itertools.count()

    def __enter__(self) -> BenchEnv:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._stack.close()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def directory(self, name: str) -> Path:
        """A fresh directory under the scratch root (a counter keeps names unique)."""
        path = self.root / f"{name}-{next(self._counter)}"
        path.mkdir(parents=True)
        return path

    def registry(self, name: str) -> Registry:
        """A new, empty plain-HTTP registry; stopped with the environment."""
        registry = start_registry(self.directory(name), name=name)
        self._stack.callback(registry.stop)
        return registry

    def discard(self, registry: Registry) -> None:
        """Stop a registry now and free its storage (for per-run registries)."""
        registry.stop()
        shutil.rmtree(registry.workdir, ignore_errors=True)

    def proxy(self, upstream: Registry, *faults: Fault, name: str = "fault-proxy") -> FaultProxy:
        """A fault proxy in front of ``upstream`` with ``faults`` set; stopped with the environment."""
        proxy = FaultProxy(upstream.url, name=name).start()
        self._stack.callback(proxy.stop)
        if faults:
            proxy.set_faults(*faults)
        return proxy

    def skopeo(self, command_timeout: float = 120.0) -> Skopeo:
        """A skopeo with its own, empty blob-info cache, policy and registries.conf."""
        return Skopeo(self.directory("skopeo"), command_timeout=command_timeout)

    def image(
        self, seed: str, layer_sizes: Sequence[int], *, incompressible: bool = True, tag: str = "1"
    ) -> OCIImage:
        """A single-platform OCI image layout; incompressible layers keep their size on the wire."""
        return write_image(
            self.directory(f"layout-{seed}"),
            seed=seed,
            layer_sizes=layer_sizes,
            incompressible=incompressible,
            tag=tag,
        )


class FreshRegistries:
    """Registries that each cold run replaces with new, empty ones (:meth:`renew`, untimed)."""

    def __init__(self, env: BenchEnv, *names: str) -> None:
        self.env = env
        self.names = names
        self.registries: list[Registry] = []

    def renew(self) -> None:
        """Stop the current registries, drop their storage and start empty ones."""
        for registry in self.registries:
            self.env.discard(registry)
        self.registries = [self.env.registry(name) for name in self.names]
