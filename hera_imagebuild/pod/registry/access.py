"""How to reach registries: TLS trust, plain-HTTP registries, credentials."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import certifi

from hera_imagebuild.common.reference import normalize_registry
from hera_imagebuild.pod.registry.credentials import DockerConfig, registry_key


@dataclass(frozen=True)
class RegistryAccess:
    """Trust and credentials for every registry a step talks to.

    Attributes:
        docker_config: Credentials (only ever from a docker config file).
        cert_dir: A directory whose ``*.crt`` files are CA certificates trusted
            in addition to the system's, for every registry.
        insecure_registries: ``host[:port]`` reached over plain HTTP. Every other
            registry is HTTPS with verified certificates; there is no fallback.
    """

    docker_config: DockerConfig = field(default_factory=DockerConfig)
    cert_dir: Path | None = None
    insecure_registries: frozenset[str] = frozenset()

    @classmethod
    def create(
        cls,
        *,
        authfile: str | None = None,
        cert_dir: str | None = None,
        insecure_registries: Iterable[str] = (),
    ) -> RegistryAccess:
        """Build access settings from step options (``--authfile``, ``--cert-dir``, ``--insecure-registry``).

        Raises:
            ValueError: For a missing/unreadable docker config or cert dir, or a
                malformed registry name; the message names the option and value.
        """
        directory = None
        if cert_dir:
            directory = Path(cert_dir)
            if not directory.is_dir():
                raise ValueError(f"--cert-dir: {cert_dir!r} is not a directory")
        insecure = frozenset(
            registry_key(normalize_registry(host, field="--insecure-registry"))
            for host in insecure_registries
        )
        return cls(DockerConfig.load(authfile), directory, insecure)

    def scheme(self, host: str) -> str:
        """``http`` for an insecure registry, else ``https``."""
        return "http" if registry_key(host) in self.insecure_registries else "https"

    def ssl_context(self) -> ssl.SSLContext:
        """The system trust store plus every ``*.crt`` in ``cert_dir``; hostnames verified.

        Built once per :class:`RegistryAccess` (loading trust stores takes ~0.1 s)
        and shared by every client made with it.

        Raises:
            ValueError: If a ``*.crt`` file is not a PEM certificate.
        """
        return self._ssl_context

    @functools.cached_property
    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        # httpx's own default bundle, so a slim image without system CAs still verifies.
        context.load_verify_locations(cafile=certifi.where())
        if self.cert_dir is not None:
            for path in sorted(self.cert_dir.glob("*.crt")):
                try:
                    context.load_verify_locations(cafile=str(path))
                except (ssl.SSLError, OSError) as exc:
                    raise ValueError(
                        f"--cert-dir: {str(path)!r} is not a PEM CA certificate ({exc})"
                    ) from None
        return context
