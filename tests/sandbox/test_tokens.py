"""Bearer-token auth as Docker Hub, GHCR and Harbor do it: real registry, our token issuer, skopeo."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from hera_imagebuild.sandbox.credentials import Credentials
from hera_imagebuild.sandbox.images import OCIImage
from hera_imagebuild.sandbox.process import SandboxError
from hera_imagebuild.sandbox.registry import Registry
from hera_imagebuild.sandbox.skopeo import Skopeo
from hera_imagebuild.sandbox.tokens import TokenIssuer


def _claims(token: str) -> tuple[dict[str, object], dict[str, object]]:
    header, claims, _ = token.split(".")
    return tuple(
        json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in (header, claims)
    )


def test_pusher_pushes_reader_pulls_but_may_not_push(
    token_registry: Registry,
    token_issuer: TokenIssuer,
    token_pusher: Credentials,
    token_reader: Credentials,
    skopeo: Skopeo,
    oci_image: Callable[..., OCIImage],
) -> None:
    image = oci_image(seed="token")
    ref = skopeo.push(image, token_registry, "sandbox/token", "v1", credentials=token_pusher)
    assert skopeo.inspect(ref, registry=token_registry, credentials=token_reader)["Digest"] == image.digest

    with pytest.raises(SandboxError, match=r"(?i)unauthorized|denied|authentication required"):
        skopeo.push(
            oci_image(seed="token-denied"), token_registry, "sandbox/token", "v2", credentials=token_reader
        )
    reader_grants = {g.granted for g in token_issuer.grants if g.username == token_reader.username}
    assert ("repository:sandbox/token:pull",) in reader_grants
    assert not any("push" in scope for grant in reader_grants for scope in grant)


def test_wrong_password_gets_no_token(
    token_registry: Registry, token_issuer: TokenIssuer, wrong_token_pusher: Credentials, skopeo: Skopeo
) -> None:
    with pytest.raises(SandboxError, match=r"(?i)unauthorized|authentication required"):
        skopeo.inspect(
            f"{token_registry.host}/sandbox/token:v1",
            registry=token_registry,
            credentials=wrong_token_pusher,
        )
    assert token_issuer.grants[-1].status == 401


def test_token_flow_by_hand(
    token_registry: Registry,
    token_issuer: TokenIssuer,
    token_pusher: Credentials,
    wrong_token_pusher: Credentials,
) -> None:
    with httpx.Client(timeout=5) as client:
        challenge = client.get(f"{token_registry.url}/v2/")
        assert challenge.status_code == 401
        assert challenge.headers["www-authenticate"] == (
            f'Bearer realm="{token_issuer.realm}",service="{token_issuer.service}"'
        )
        scope = "repository:sandbox/by-hand:pull,push"
        params = {"service": token_issuer.service, "scope": scope}
        answer = client.get(
            token_issuer.realm, params=params, auth=(token_pusher.username, token_pusher.password)
        )
        assert answer.status_code == 200
        body = answer.json()
        assert body["token"] == body["access_token"]
        assert body["expires_in"] == 300
        header, claims = _claims(body["token"])
        assert header["alg"] == "RS256"
        assert header["x5c"]
        assert claims["aud"] == token_issuer.service
        assert claims["access"] == [
            {"type": "repository", "name": "sandbox/by-hand", "actions": ["pull", "push"]}
        ]
        bearer = {"Authorization": f"Bearer {body['token']}"}
        assert client.get(f"{token_registry.url}/v2/", headers=bearer).status_code == 200
        upload = client.post(f"{token_registry.url}/v2/sandbox/by-hand/blobs/uploads/", headers=bearer)
        assert upload.status_code == 202

        form = {"grant_type": "password", "service": token_issuer.service, "scope": scope}
        posted = client.post(
            token_issuer.realm,
            data=form | {"username": wrong_token_pusher.username, "password": wrong_token_pusher.password},
        )
        assert posted.status_code == 401
        form |= {"username": token_pusher.username, "password": token_pusher.password}
        assert client.post(token_issuer.realm, data=form).status_code == 200

        wrong_service = client.get(token_issuer.realm, params={"service": "other", "scope": scope})
        assert wrong_service.status_code == 400


def test_a_token_from_another_signer_is_rejected(token_registry: Registry, token_issuer: TokenIssuer) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT","kid":"NOPE:NOPE"}').rstrip(b"=").decode()
    forged = f"{header}.e30.AAAA"
    response = httpx.get(
        f"{token_registry.url}/v2/", headers={"Authorization": f"Bearer {forged}"}, timeout=5
    )
    assert response.status_code == 401
