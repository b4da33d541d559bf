"""Credentials come only from a docker config file; every spelling of a registry key finds them."""

from __future__ import annotations

import base64
import json

import pytest

from hera_imagebuild.pod.registry import DockerConfig, RegistryAccess
from hera_imagebuild.pod.registry.auth import parse_challenge


def _write(tmp_path, auths, name="config.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"auths": auths}))
    return path


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_key_spellings_and_fields(tmp_path):
    path = _write(
        tmp_path,
        {
            "https://index.docker.io/v1/": {"auth": _auth("hub-user", "hub-pw")},
            "https://ghcr.io": {"username": "gh-user", "password": "gh-pw"},
            "registry.example:5000": {"auth": _auth("ex", "pa:ss:word")},
            "id.example": {"identitytoken": "refresh-me"},
            "empty.example": {},
        },
    )
    config = DockerConfig.load(str(path))
    for alias in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        hub = config.lookup(alias)
        assert hub is not None
        assert (hub.username, hub.password) == ("hub-user", "hub-pw")
    ghcr = config.lookup("ghcr.io")
    assert ghcr is not None
    assert ghcr.password == "gh-pw"
    example = config.lookup("registry.example:5000")
    assert example is not None
    assert example.password == "pa:ss:word"  # only the first colon separates
    token = config.lookup("id.example")
    assert token is not None
    assert token.identity_token == "refresh-me"
    assert config.lookup("empty.example") is None
    assert config.lookup("registry.example") is None  # the port is part of the key
    assert "hub-pw" not in repr(config)
    assert "gh-pw" not in repr(ghcr)


def test_default_locations(tmp_path, monkeypatch):
    directory = tmp_path / "docker"
    directory.mkdir()
    _write(directory, {"reg.example": {"auth": _auth("u", "p")}})
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    assert DockerConfig.load().lookup("reg.example") is not None

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nowhere"))
    assert DockerConfig.load().credentials == {}  # a missing default file means anonymous

    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert DockerConfig.load().path is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"auths": {"r": {"auth": "s3cret-not-base64!"}}}',
            r"auths\['r'\]: 'auth' is not base64 of 'user:password'",
        ),
        ('{"auths": {"r": {"auth": "' + base64.b64encode(b"nocolon").decode() + '"}}}', "does not decode to"),
        ('{"auths": {"r": "s3cret"}}', r"auths\['r'\]: expected an object"),
        ('{"auths": [1]}', "'auths' must be a map"),
        ("[]", "expected a JSON object"),
        ('{"auths": {"r": {"password": "s3cret"', "not valid JSON"),
    ],
)
def test_malformed_config_is_named_without_secrets(tmp_path, content, message):
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as caught:
        DockerConfig.load(str(path))
    assert "s3cret" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_explicit_authfile_must_exist(tmp_path):
    with pytest.raises(ValueError, match=r"--authfile: .* does not exist"):
        RegistryAccess.create(authfile=str(tmp_path / "missing.json"))


def test_insecure_registries_use_plain_http_and_no_one_else(tmp_path):
    access = RegistryAccess.create(insecure_registries=["127.0.0.1:5000", "docker.io"])
    assert access.scheme("127.0.0.1:5000") == "http"
    assert access.scheme("registry-1.docker.io") == "http"
    assert access.scheme("127.0.0.1:5001") == "https"


def test_cert_dir_takes_only_crt_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not a certificate, and not read")
    RegistryAccess.create(cert_dir=str(tmp_path)).ssl_context()
    (tmp_path / "bad.crt").write_text("not a certificate")
    with pytest.raises(ValueError, match=r"--cert-dir: .*bad.crt' is not a PEM CA certificate"):
        RegistryAccess.create(cert_dir=str(tmp_path)).ssl_context()


def test_challenge_parsing():
    scheme, params = parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'
    )
    assert scheme == "bearer"
    assert params == {
        "realm": "https://auth.example/token",
        "service": "registry.example",
        "scope": "repository:a/b:pull,push",
    }
    assert parse_challenge('Basic realm="Registry Realm"') == ("basic", {"realm": "Registry Realm"})
