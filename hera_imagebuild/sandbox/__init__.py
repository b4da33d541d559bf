"""Local registries, a fault-injecting proxy and test images on loopback (demo, tests, benchmarks).

Nothing here runs in a build pod: it needs Debian's ``docker-registry``,
``skopeo``, ``openssl`` and ``htpasswd`` on the machine. Every process or
server it starts is a :class:`~hera_imagebuild.sandbox.process.Running` (stop it,
or use a ``with`` block), and :func:`live_resources` lists what is still running.
"""

from hera_imagebuild.sandbox.credentials import Credentials, write_docker_config
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy, closed_port_url, proxy_in_front_of
from hera_imagebuild.sandbox.images import OCIImage, write_image
from hera_imagebuild.sandbox.process import SandboxError, live_resources
from hera_imagebuild.sandbox.registry import Registry, TokenAuth, start_registry
from hera_imagebuild.sandbox.seeds import BASE_IMAGES, BaseImageSpec, seed_registry
from hera_imagebuild.sandbox.skopeo import Skopeo
from hera_imagebuild.sandbox.tls import TLSFiles, make_tls
from hera_imagebuild.sandbox.tokens import TokenIssuer, TokenUser, start_token_issuer

__all__ = [
    "BASE_IMAGES",
    "BaseImageSpec",
    "Credentials",
    "Fault",
    "FaultProxy",
    "OCIImage",
    "Registry",
    "SandboxError",
    "Skopeo",
    "TLSFiles",
    "TokenAuth",
    "TokenIssuer",
    "TokenUser",
    "closed_port_url",
    "live_resources",
    "make_tls",
    "proxy_in_front_of",
    "seed_registry",
    "start_registry",
    "start_token_issuer",
    "write_docker_config",
    "write_image",
]
