"""A small async registry client (OCI distribution API) for the pod-side steps.

Why not an existing client: oras-py fails bearer-token pushes, has no
timeouts and sleeps for minutes in built-in retries; aioregistry verifies TLS
only when handed an SSL context; skopeo gives no per-request deadline (a
trickling server holds it) and does not retry 503. The steps need verified TLS
by default, a bounded time for every request, ``Retry-After``, bearer tokens
per scope, credentials only from the mounted docker config, and errors that
say whether a retry can help; that fits in a few hundred lines on httpx.
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
