"""Names of the build DAG's input parameters and outputs, and how a template refers to an input.

The same names serve the inline DAG, the published templates and plain-YAML
users, so they are part of the public interface: change them only with a new
template version.
"""

from __future__ import annotations


def input_ref(name: str) -> str:
    """The Argo reference to the template's input parameter ``name``: ``{{inputs.parameters.<name>}}``."""
    return f"{{{{inputs.parameters.{name}}}}}"


DOCKERFILE = "dockerfile"
DESTINATIONS = "destinations"
BUILD_ARGS = "build-args"
TARGET = "target"
LABELS = "labels"
PLATFORM = "platform"
CACHE = "cache"
CACHE_REPO = "cache-repo"
MIRRORS = "mirrors"
FALLBACK = "fallback"
PROBE_TIMEOUT = "probe-timeout"
BASE_IMAGE_CACHE = "base-image-cache"
HTTP_PROXY = "http-proxy"
HTTPS_PROXY = "https-proxy"
NO_PROXY = "no-proxy"
DOCKER_CONFIG_SECRET = "docker-config-secret"  # noqa: S105 (a parameter name, not a secret)
DISABLE_HTTP2 = "disable-http2"
EXECUTOR_IMAGE = "executor-image"
RUNTIME_IMAGE = "runtime-image"
CONTEXT_PVC = "context-pvc"
"""Only in the PVC-context shape."""
CONTEXT_SUB_PATH = "context-sub-path"
"""Only in the PVC-context shape."""
HANDOFF_PVC = "handoff-pvc"
"""Only in the PVC-handoff shape."""

# Parameters passed from prefetch to build.
PINNED_DOCKERFILE = "pinned-dockerfile"
REGISTRY_MAP = "registry-map"
HANDOFF_SUB_PATH = "handoff-sub-path"

# Outputs of the build DAG (and of its push step).
OUT_DIGEST = "digest"
OUT_IMAGE_REF = "image-ref"
OUT_IMAGE_REFS = "image-refs"
OUTPUTS = (OUT_DIGEST, OUT_IMAGE_REF, OUT_IMAGE_REFS)

DESCRIPTIONS: dict[str, str] = {
    DOCKERFILE: "Dockerfile path relative to the build context",
    DESTINATIONS: 'JSON list of push destinations, e.g. ["registry.example.com/ml/train:v1"]',
    BUILD_ARGS: 'JSON object of build arguments, e.g. {"CUDA_VERSION": "12.4.1"}',
    TARGET: "stage to build ('' = the last stage)",
    LABELS: "JSON object of image labels",
    PLATFORM: "OS/ARCH[/VARIANT] to build for",
    CACHE: "kaniko layer cache: true or false",
    CACHE_REPO: "repository for kaniko's layer cache ('' when cache is false)",
    MIRRORS: 'JSON object registry -> ordered mirrors, e.g. {"docker.io": ["mirror.example.com/hub"]}',
    FALLBACK: "try the original registry after the mirrors: true or false",
    PROBE_TIMEOUT: "seconds a mirror may take to answer during prefetch",
    BASE_IMAGE_CACHE: "HOST[/PREFIX] to copy base images into before the build ('' = off)",
    HTTP_PROXY: "HTTP proxy URL for the pods and RUN steps ('' = none)",
    HTTPS_PROXY: "HTTPS proxy URL for the pods and RUN steps ('' = none)",
    NO_PROXY: "comma-separated hosts that bypass the proxy",
    DOCKER_CONFIG_SECRET: "Secret (.dockerconfigjson) with registry credentials; optional",
    DISABLE_HTTP2: "force HTTP/1.1 in kaniko (FF_KANIKO_DISABLE_HTTP2): true or false",
    EXECUTOR_IMAGE: "kaniko executor image",
    RUNTIME_IMAGE: "hera-imagebuild runtime image (prefetch and push)",
    CONTEXT_PVC: "existing PVC holding the build context",
    CONTEXT_SUB_PATH: "directory of the build context inside the PVC ('' = root)",
    HANDOFF_PVC: "existing ReadWriteMany PVC for the build -> push handoff",
}
