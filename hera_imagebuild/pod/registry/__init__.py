"""A small async registry client (OCI distribution API) for the pod-side steps.

Why our own and not oras-py, aioregistry or skopeo: see ``docs`` and DESIGN
notes; in short, we need verified TLS by default, bounded time for every
request (a trickling server included), Retry-After, bearer tokens per scope,
and credentials only from the mounted docker config.
"""

from hera_imagebuild.pod.registry.access import RegistryAccess
from hera_imagebuild.pod.registry.client import RegistryClient, ResolvedImage
from hera_imagebuild.pod.registry.credentials import Credential, DockerConfig
from hera_imagebuild.pod.registry.errors import RegistryError
from hera_imagebuild.pod.registry.manifest import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Manifest,
    ManifestError,
    Platform,
)
from hera_imagebuild.pod.registry.retry import Deadline, RetryPolicy

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Credential",
    "Deadline",
    "Descriptor",
    "DockerConfig",
    "Manifest",
    "ManifestError",
    "Platform",
    "RegistryAccess",
    "RegistryClient",
    "RegistryError",
    "ResolvedImage",
    "RetryPolicy",
]
