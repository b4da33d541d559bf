import pytest

from hera_imagebuild.builders import kaniko
from hera_imagebuild.common.reference import (
    ReferenceError,
    normalize_registry,
    parse_reference,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("python", "docker.io", "library/python", None, None),
        ("python:3.12-slim", "docker.io", "library/python", "3.12-slim", None),
        ("index.docker.io/pytorch/pytorch:2.5.1", "docker.io", "pytorch/pytorch", "2.5.1", None),
        (
            "nvcr.io/nvidia/cuda:12.4.1-runtime-ubuntu22.04",
            "nvcr.io",
            "nvidia/cuda",
            "12.4.1-runtime-ubuntu22.04",
            None,
        ),
        ("localhost:5000/team/app", "localhost:5000", "team/app", None, None),
        ("127.0.0.1:5000/a/b:v1@" + DIGEST, "127.0.0.1:5000", "a/b", "v1", DIGEST),
        ("ghcr.io/org/img@" + DIGEST, "ghcr.io", "org/img", None, DIGEST),
        ("[::1]:5000/x", "[::1]:5000", "x", None, None),
    ],
)
def test_parse_normalises(text, registry, repository, tag, digest):
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


def test_round_trip_and_pinning():
    ref = parse_reference("python:3.12")
    assert str(ref) == "docker.io/library/python:3.12"
    pinned = ref.with_digest(DIGEST)
    assert pinned.pinned() == f"docker.io/library/python@{DIGEST}"
    assert pinned.reference == DIGEST
    assert ref.api_host == "registry-1.docker.io"
    moved = ref.with_registry("127.0.0.1:5001", prefix="/hub/")
    assert moved.name == "127.0.0.1:5001/hub/library/python"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("Python:3", "lower-case"),
        ("python:3 ", "white space"),
        ("python:-bad", "tag '-bad'"),
        ("python@sha256:abc", "64 lower-case hex"),
        ("python@nodigest", "algorithm:hex"),
        # Never checked, and silently replaced by the sha256 of what a registry serves: refused.
        ("python@sha512:" + "0" * 128, "digest 'sha512': only sha256 digests are accepted"),
        ("python@sha384:" + "0" * 96, "digest 'sha384': only sha256 digests are accepted"),
        ("registry.example.com/", "empty"),
        ("a//b", "lower-case components"),
        ("$(id)", "lower-case components"),
    ],
)
def test_bad_references_name_field_value_and_accepted_form(text, fragment):
    with pytest.raises(ReferenceError) as info:
        parse_reference(text, field="destinations[0]")
    message = str(info.value)
    assert message.startswith("destinations[0]: ")
    assert repr(text) in message
    assert fragment in message
    assert "expected an image reference such as" in message


def test_registry_helpers():
    assert normalize_registry("index.docker.io") == "docker.io"
    assert normalize_registry("mirror.local:5000") == "mirror.local:5000"
    assert kaniko.registry_key("docker.io") == "index.docker.io"
    assert kaniko.registry_key("ghcr.io") == "ghcr.io"
    with pytest.raises(ReferenceError, match="mirrors: 'http://x' is not a registry host"):
        normalize_registry("http://x", field="mirrors")


def test_a_registry_host_with_credentials_is_refused_without_echoing_them():
    with pytest.raises(ReferenceError) as info:
        normalize_registry("user:s3cret@mirror.local:5000", field="--insecure-registry")
    message = str(info.value)
    assert message.startswith("--insecure-registry: '***@mirror.local:5000' is not a registry host")
    assert "s3cret" not in message


def test_credentials_in_a_reference_are_refused_without_echoing_them():
    with pytest.raises(ReferenceError) as info:
        parse_reference("builder:s3cret-pw@registry.example.com:5000/ml/app:v1", field="--destination")
    message = str(info.value)
    assert "s3cret-pw" not in message
    assert "'***@registry.example.com:5000/ml/app:v1'" in message
    assert "it carries credentials" in message
    # A digest's "@" is not userinfo.
    assert parse_reference("python:3.12@sha256:" + "a" * 64).digest == "sha256:" + "a" * 64
