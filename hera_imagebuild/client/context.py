"""Where the build context comes from: an existing PVC, git, S3, or an upstream task's artifact.

A PVC is mounted into the prefetch and build pods as a template-level volume
(a ``templateRef`` does not bring spec-level volumes along). Every other kind
reaches the build DAG as its input artifact ``context``, which Argo places at
:data:`~hera_imagebuild.common.contract.CONTEXT_DIR` in both pods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from hera.workflows import Artifact, GitArtifact, S3Artifact
from hera.workflows.models import SecretKeySelector

from hera_imagebuild.client import validation as v

CONTEXT_ARTIFACT = "context"
"""Name of the build DAG's input artifact that carries the build context."""

_GIT_REF_FORBIDDEN = set(" ~^:?*[\\") | {".."}


@dataclass(kw_only=True, frozen=True)
class PvcContext:
    """A build context on an existing PersistentVolumeClaim.

    Attributes:
        claim_name: The PVC's name (in the workflow's namespace).
        sub_path: The directory inside the volume that holds the context ('' = the volume's root).
    """

    kind: ClassVar[str] = "pvc"
    claim_name: str
    sub_path: str = ""

    def __post_init__(self) -> None:
        v.dns_subdomain("context.claim_name", self.claim_name)
        v.relative_path("context.sub_path", self.sub_path, allow_empty=True)

    def artifact(self) -> Artifact | None:
        """No input artifact: the volume is mounted instead."""
        return None

    def oci_labels(self) -> dict[str, str]:
        """Nothing is known about a volume's origin."""
        return {}


@dataclass(kw_only=True, frozen=True)
class GitContext:
    """A build context cloned from git by Argo (a git input artifact).

    Attributes:
        url: The repository (``https://...``, ``ssh://...`` or ``git@host:path``), without credentials.
        ref: Branch, tag or commit to check out.
        depth: Shallow-clone depth (``None``: full history, needed for arbitrary commit ids).
        ssh_key_secret: Secret with the key ``ssh-privatekey`` for ssh URLs (a
            ``kubernetes.io/ssh-auth`` Secret).
    """

    kind: ClassVar[str] = "artifact"
    url: str
    ref: str = "main"
    depth: int | None = None
    ssh_key_secret: str | None = None

    def __post_init__(self) -> None:
        v.literal_text("context.url", self.url)
        parts = urlsplit(self.url)
        # A token alone (https://TOKEN@host/...) is a credential too; ssh://git@host/... names a user.
        if parts.password or (parts.username and parts.scheme in ("http", "https")):
            raise ValueError(
                "context.url: a git URL with credentials is not accepted (it would be visible in the "
                "workflow); give the URL without them and the key in ssh_key_secret"
            )
        scp_like = self.url.startswith("git@") and ":" in self.url
        if not scp_like and (parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname):
            raise v.invalid("context.url", self.url, "a git URL such as 'https://github.com/org/repo.git'")
        v.url("context.url", self.url)
        v.literal_text("context.ref", self.ref)
        if not self.ref or self.ref.startswith("-") or any(bad in self.ref for bad in _GIT_REF_FORBIDDEN):
            raise v.invalid(
                "context.ref", self.ref, "a branch, tag or commit id such as 'main', 'v1.2.0' or a SHA"
            )
        if self.depth is not None:
            v.positive_int("context.depth", self.depth)
        if self.ssh_key_secret is not None:
            v.dns_subdomain("context.ssh_key_secret", self.ssh_key_secret)

    def artifact(self) -> Artifact:
        """The git input artifact for the build DAG."""
        key = (
            SecretKeySelector(name=self.ssh_key_secret, key="ssh-privatekey") if self.ssh_key_secret else None
        )
        return GitArtifact(
            name=CONTEXT_ARTIFACT,
            repo=self.url,
            revision=self.ref,
            depth=self.depth,
            ssh_private_key_secret=key,
        )

    def oci_labels(self) -> dict[str, str]:
        """``source`` and ``revision`` from the repository and ref."""
        return {"org.opencontainers.image.source": self.url, "org.opencontainers.image.revision": self.ref}


@dataclass(kw_only=True, frozen=True)
class S3Context:
    """A build context in an S3-compatible object store (a tarball or a key prefix).

    Argo unpacks a ``.tar.gz`` object into the context directory.

    Attributes:
        url: ``s3://bucket/key``.
        endpoint: The object store's host[:port].
        credentials_secret: Secret with keys ``accessKey`` and ``secretKey`` (``None``: the
            node's or service account's own credentials, ``useSDKCreds``).
        region: The bucket's region, if the store needs one.
        insecure: Reach the endpoint over plain HTTP.
    """

    kind: ClassVar[str] = "artifact"
    url: str
    endpoint: str = "s3.amazonaws.com"
    credentials_secret: str | None = None
    region: str | None = None
    insecure: bool = False

    def __post_init__(self) -> None:
        v.url("context.url", self.url)
        parts = urlsplit(self.url)
        bucket, key = parts.netloc, parts.path.lstrip("/")
        valid_bucket = bool(bucket) and all(ch.isalnum() or ch in ".-" for ch in bucket) and bucket.islower()
        if parts.scheme != "s3" or not valid_bucket or not key or " " in self.url:
            raise v.invalid("context.url", self.url, "'s3://bucket/path/context.tar.gz'")
        v.registry_with_prefix("context.endpoint", self.endpoint)
        if self.credentials_secret is not None:
            v.dns_subdomain("context.credentials_secret", self.credentials_secret)
        if self.region is not None and not self.region.replace("-", "").isalnum():
            raise v.invalid("context.region", self.region, "a region name such as 'eu-west-1'")

    def artifact(self) -> Artifact:
        """The S3 input artifact for the build DAG."""
        parts = urlsplit(self.url)
        secret = self.credentials_secret
        return S3Artifact(
            name=CONTEXT_ARTIFACT,
            bucket=parts.netloc,
            key=parts.path.lstrip("/"),
            endpoint=self.endpoint,
            region=self.region,
            insecure=self.insecure,
            access_key_secret=SecretKeySelector(name=secret, key="accessKey") if secret else None,
            secret_key_secret=SecretKeySelector(name=secret, key="secretKey") if secret else None,
            use_sdk_creds=None if secret else True,
        )

    def oci_labels(self) -> dict[str, str]:
        """``source``: the object's URL."""
        return {"org.opencontainers.image.source": self.url}


@dataclass(kw_only=True, frozen=True)
class ArtifactContext:
    """A build context produced by an earlier task of the same workflow.

    Attributes:
        source: The artifact reference, such as ``{{tasks.fetch-code.outputs.artifacts.source}}``.
    """

    kind: ClassVar[str] = "artifact"
    source: str

    def __post_init__(self) -> None:
        v.argo_reference("context.source", self.source)

    def artifact(self) -> Artifact:
        """The DAG's context artifact, taken ``from`` the upstream output."""
        return Artifact(name=CONTEXT_ARTIFACT, from_=self.source)

    def oci_labels(self) -> dict[str, str]:
        """Nothing is known at render time."""
        return {}


Context = PvcContext | GitContext | S3Context | ArtifactContext
"""Any build context."""
