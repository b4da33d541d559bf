"""Shared fixtures: real registries on loopback, isolated skopeo, test images, matrix recorders.

Start-up is cheap (a registry listens in ~0.03 s) but pushing seeded images
is not, so registries and seeded images are session-scoped; fault proxies and
scratch images are per test. At the end of the session every sandbox process
and thread must have been stopped.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from hera_imagebuild.sandbox.credentials import Credentials, write_docker_config
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy, proxy_in_front_of
from hera_imagebuild.sandbox.images import OCIImage, write_image
from hera_imagebuild.sandbox.matrix import BadInputRecorder, ReliabilityRecorder
from hera_imagebuild.sandbox.process import live_resources
from hera_imagebuild.sandbox.registry import Registry, start_registry
from hera_imagebuild.sandbox.seeds import seed_registry
from hera_imagebuild.sandbox.skopeo import Skopeo
from hera_imagebuild.sandbox.tls import TLSFiles, make_tls
from hera_imagebuild.sandbox.tokens import TokenIssuer, TokenUser, start_token_issuer

# Fails any test whose output, files or report contain a test credential (owner: EVIDENCE).
pytest_plugins = ["plugins.secret_scan"]

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / ".artifacts"
RELIABILITY_FILE = ARTIFACTS / "reliability.jsonl"
BAD_INPUTS_FILE = ARTIFACTS / "bad_inputs.jsonl"

# Test credentials. tests/ scans produced logs and reports for these passwords.
TLS_USER = Credentials("alice", "alice-s3cret-pw")
TOKEN_PUSHER = Credentials("pusher", "pusher-s3cret-pw")
TOKEN_READER = Credentials("reader", "reader-s3cret-pw")
# Right user names, wrong passwords: what an auth-denied test sends.
WRONG_TLS_USER = Credentials(TLS_USER.username, "alice-wrong-pw")
WRONG_TOKEN_PUSHER = Credentials(TOKEN_PUSHER.username, "pusher-wrong-pw")
TEST_PASSWORDS = tuple(
    creds.password for creds in (TLS_USER, TOKEN_PUSHER, TOKEN_READER, WRONG_TLS_USER, WRONG_TOKEN_PUSHER)
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the matrices afresh: they describe exactly one test run."""
    if getattr(session.config, "workerinput", None) is None:  # not a pytest-xdist worker
        ARTIFACTS.mkdir(exist_ok=True)
        for path in (RELIABILITY_FILE, BAD_INPUTS_FILE):
            path.write_text("")


@pytest.fixture(scope="session", autouse=True)
def _nothing_left_running() -> Iterator[None]:
    """Fail the session if a sandbox registry, proxy or issuer outlived its fixture."""
    yield
    left = live_resources()
    assert not left, f"sandbox resources still running after the session: {left}"


@pytest.fixture(scope="session")
def tls_user() -> Credentials:
    """The basic-auth user of ``tls_registry`` (may pull and push)."""
    return TLS_USER


@pytest.fixture(scope="session")
def wrong_tls_user() -> Credentials:
    """``tls_user``'s name with a wrong password."""
    return WRONG_TLS_USER


@pytest.fixture(scope="session")
def wrong_token_pusher() -> Credentials:
    """``token_pusher``'s name with a wrong password."""
    return WRONG_TOKEN_PUSHER


@pytest.fixture(scope="session")
def sandbox_passwords() -> tuple[str, ...]:
    """Every password the sandbox registries accept: they must never appear in logs or reports."""
    return TEST_PASSWORDS


@pytest.fixture(scope="session")
def sandbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide scratch directory for registries, certificates and skopeo state."""
    return tmp_path_factory.mktemp("sandbox")


@pytest.fixture(scope="session")
def skopeo(sandbox_dir: Path) -> Skopeo:
    """skopeo with a private blob-info cache, policy, registries.conf and no ambient credentials."""
    return Skopeo(sandbox_dir / "skopeo", command_timeout=60)


@pytest.fixture(scope="session")
def plain_registry(sandbox_dir: Path) -> Iterator[Registry]:
    """A plain-HTTP registry without auth."""
    with start_registry(sandbox_dir / "plain", name="plain") as registry:
        yield registry


@pytest.fixture(scope="session")
def tls_files(sandbox_dir: Path) -> TLSFiles:
    """A throwaway CA and a server certificate for 127.0.0.1."""
    return make_tls(sandbox_dir / "tls")


@pytest.fixture(scope="session")
def tls_registry(sandbox_dir: Path, tls_files: TLSFiles) -> Iterator[Registry]:
    """An HTTPS registry (CA: ``tls_files``) with htpasswd basic auth; user ``TLS_USER``."""
    with start_registry(
        sandbox_dir / "tls-registry", name="tls", tls=tls_files, users={TLS_USER.username: TLS_USER}
    ) as registry:
        yield registry


@pytest.fixture(scope="session")
def token_pusher() -> Credentials:
    """The ``token_registry`` user that may pull and push."""
    return TOKEN_PUSHER


@pytest.fixture(scope="session")
def token_reader() -> Credentials:
    """The ``token_registry`` user that may only pull (its pushes are denied)."""
    return TOKEN_READER


@pytest.fixture(scope="session")
def token_issuer(sandbox_dir: Path) -> Iterator[TokenIssuer]:
    """A Docker token realm on loopback (RS256 JWTs the registry trusts)."""
    users = {
        TOKEN_PUSHER.username: TokenUser(TOKEN_PUSHER.password, ("pull", "push")),
        TOKEN_READER.username: TokenUser(TOKEN_READER.password, ("pull",)),
    }
    with start_token_issuer(sandbox_dir / "token-issuer", users) as issuer:
        yield issuer


@pytest.fixture(scope="session")
def token_registry(sandbox_dir: Path, token_issuer: TokenIssuer) -> Iterator[Registry]:
    """A plain-HTTP registry with bearer-token auth (``auth: token``), as Docker Hub, GHCR and Harbor use.

    Its ``users`` are the token users, the pusher first (so ``skopeo.push`` uses it).
    """
    with start_registry(
        sandbox_dir / "token-registry", name="token", token=token_issuer.token_auth
    ) as registry:
        yield registry


@pytest.fixture(scope="session")
def pullthrough_registry(sandbox_dir: Path, plain_registry: Registry) -> Iterator[Registry]:
    """A pull-through cache (``proxy: remoteurl``) in front of ``plain_registry``."""
    with start_registry(
        sandbox_dir / "pullthrough", name="pullthrough", proxy_remote=plain_registry.url
    ) as registry:
        yield registry


@pytest.fixture(scope="session")
def seeded_images(plain_registry: Registry, skopeo: Skopeo, sandbox_dir: Path) -> dict[str, OCIImage]:
    """``sandbox.seeds.BASE_IMAGES`` pushed to ``plain_registry``: ``"library/python:3.12-slim"`` -> image.

    Read-only: tests that change repositories should push their own images.
    """
    return seed_registry(plain_registry, skopeo, sandbox_dir / "seeds")


@pytest.fixture
def fault_proxy() -> Iterator[Callable[..., FaultProxy]]:
    """Factory: ``fault_proxy(registry, *faults, name=None)`` starts a proxy, stopped after the test."""
    proxies: list[FaultProxy] = []

    def make(registry: Registry, *faults: Fault, name: str | None = None) -> FaultProxy:
        proxy = proxy_in_front_of(registry, *faults, name=name)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def oci_image(tmp_path: Path) -> Callable[..., OCIImage]:
    """Factory: ``oci_image(seed=..., layer_sizes=..., platforms=...)`` writes a layout in tmp_path."""
    counter = itertools.count()

    def make(*, seed: str = "sandbox", **options: Any) -> OCIImage:
        """Keyword arguments as for :func:`hera_imagebuild.sandbox.images.write_image`."""
        return write_image(tmp_path / f"layout-{next(counter)}", seed=seed, **options)

    return make


@pytest.fixture
def docker_config(tmp_path: Path) -> Callable[[Mapping[str, Credentials]], Path]:
    """Factory: ``docker_config({host: Credentials})`` -> path of a new config.json in its own dir."""
    counter = itertools.count()

    def make(auths: Mapping[str, Credentials]) -> Path:
        directory = tmp_path / f"docker-config-{next(counter)}"
        directory.mkdir()
        return write_docker_config(directory, auths)

    return make


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A scratch directory other users can enter (pytest's tmp_path is root-only), for steps run as them."""
    directory = Path(tempfile.mkdtemp(prefix="hera-imagebuild-shared-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory)


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> ReliabilityRecorder:
    """``reliability.record(role=, fault=, outcome=, seconds=, detail=)`` -> .artifacts/reliability.jsonl."""
    return ReliabilityRecorder(RELIABILITY_FILE, request.node.nodeid)


@pytest.fixture
def bad_input(request: pytest.FixtureRequest) -> BadInputRecorder:
    """``bad_input.record(area=, given=, error=)`` -> .artifacts/bad_inputs.jsonl."""
    return BadInputRecorder(BAD_INPUTS_FILE, request.node.nodeid)
