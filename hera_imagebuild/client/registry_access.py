"""Registries outside TLS's public defaults: plain-HTTP hosts and certificates signed by a private CA.

Both change the pods' static argv, so they belong to the template's shape
(:class:`~hera_imagebuild.client.options.BuildSettings`), not to the DAG's
parameters. Nothing here turns certificate verification off: a plain-HTTP
registry has no TLS at all, and a private CA is *added* to the trusted roots.

What each pod gets:

- prefetch and push: ``--insecure-registry=HOST`` per plain-HTTP host, and
  ``--cert-dir`` naming the mounted CA files (trusted for every registry);
- kaniko: ``--insecure-registry=HOST`` per plain-HTTP host (it covers pulls,
  mapped mirrors and the layer cache as well as pushes), and
  ``--registry-certificate=HOST=FILE`` per registry given a CA (kaniko trusts a
  CA per registry only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hera.workflows import models as m

from hera_imagebuild.client import validation as v
from hera_imagebuild.common.contract import REGISTRY_CA_DIR
from hera_imagebuild.common.reference import DOCKER_HUB

REGISTRY_CA_VOLUME = "registry-ca"

# A Secret or ConfigMap key, ending in .crt: prefetch and push read only *.crt files from --cert-dir.
_CA_FILE = re.compile(r"[A-Za-z0-9][-._A-Za-z0-9]{0,248}\.crt")


@dataclass(kw_only=True, frozen=True)
class RegistryCA:
    """CA certificates for registries whose TLS certificate a private CA signed.

    The files come from one Secret or one ConfigMap (exactly one of the two)
    and are mounted read-only in all three pods. A pod cannot start while the
    Secret/ConfigMap or one of the named keys is missing.

    Attributes:
        certificates: Registry ``host[:port]`` -> key in the Secret/ConfigMap (a file name
            ending in ``.crt``) holding the PEM CA certificate(s) that signed that
            registry's certificate. Several registries may share one file.
        secret: Name of the Secret holding the files.
        config_map: Name of the ConfigMap holding the files.
    """

    certificates: Mapping[str, str]
    secret: str | None = None
    config_map: str | None = None

    def __post_init__(self) -> None:
        if (self.secret is None) == (self.config_map is None):
            raise ValueError(
                f"registry_ca: secret={self.secret!r}, config_map={self.config_map!r} is not valid; "
                "expected exactly one of them: the Secret or ConfigMap that holds the CA files"
            )
        if self.secret is not None:
            v.dns_subdomain("registry_ca.secret", self.secret)
        if self.config_map is not None:
            v.dns_subdomain("registry_ca.config_map", self.config_map)
        if not self.certificates:
            raise v.invalid(
                "registry_ca.certificates",
                dict(self.certificates),
                "at least one registry: {'registry.example.com': 'corp-ca.crt'}",
            )
        certificates: dict[str, str] = {}
        for host, file_name in self.certificates.items():
            registry = v.registry("registry_ca.certificates", host, certificates)
            certificates[registry] = v.matching(
                f"registry_ca.certificates[{host}]",
                file_name,
                _CA_FILE,
                "a key of the Secret/ConfigMap ending in '.crt' (letters, digits, '-', '_', '.'), "
                "such as 'corp-ca.crt'",
            )
        object.__setattr__(self, "certificates", certificates)

    @property
    def files(self) -> tuple[str, ...]:
        """The distinct file names, in the order first named."""
        return tuple(dict.fromkeys(self.certificates.values()))

    def volume(self) -> m.Volume:
        """The volume holding exactly the named files (mounted at :data:`REGISTRY_CA_DIR`)."""
        items = [m.KeyToPath(key=name, path=name) for name in self.files]
        if self.secret is not None:
            return m.Volume(
                name=REGISTRY_CA_VOLUME, secret=m.SecretVolumeSource(secret_name=self.secret, items=items)
            )
        return m.Volume(
            name=REGISTRY_CA_VOLUME, config_map=m.ConfigMapVolumeSource(name=self.config_map, items=items)
        )


def insecure_registries(hosts: Iterable[str], registry_ca: RegistryCA | None) -> tuple[str, ...]:
    """Validate and normalise the plain-HTTP registries (duplicates dropped, order kept).

    Raises:
        ValueError: ``hosts`` is one string, or a host is not ``host[:port]``, is Docker Hub or also has a CA.
    """
    if isinstance(hosts, str):
        raise v.invalid("insecure_registries", hosts, "a list of 'host[:port]'")
    normalised: dict[str, None] = {}
    for host in hosts:
        registry = v.registry("insecure_registries", host)
        if registry == DOCKER_HUB:
            raise v.invalid(
                "insecure_registries", host, "a registry served over plain HTTP; Docker Hub is HTTPS only"
            )
        if registry_ca is not None and registry in registry_ca.certificates:
            raise v.invalid(
                "insecure_registries",
                host,
                "a registry without TLS, but registry_ca.certificates names it too (a CA implies "
                "HTTPS): list it in one of the two",
            )
        normalised[registry] = None
    return tuple(normalised)


def certificate_files(registry_ca: RegistryCA | None) -> tuple[tuple[str, str], ...]:
    """``(registry, mounted CA file)`` for each privately signed registry (the builder's per-host flags)."""
    if registry_ca is None:
        return ()
    return tuple((host, f"{REGISTRY_CA_DIR}/{name}") for host, name in registry_ca.certificates.items())


def cert_dir(registry_ca: RegistryCA | None) -> str | None:
    """prefetch/push ``--cert-dir``: the mounted CA files, if any."""
    return REGISTRY_CA_DIR if registry_ca is not None else None


def ca_volume(registry_ca: RegistryCA | None) -> tuple[list[m.Volume], list[m.VolumeMount]]:
    """The CA volume and its read-only mount (none without a CA)."""
    if registry_ca is None:
        return [], []
    mount = m.VolumeMount(name=REGISTRY_CA_VOLUME, mount_path=REGISTRY_CA_DIR, read_only=True)
    return [registry_ca.volume()], [mount]
