"""Answering a registry's 401 challenge: HTTP Basic, or a Bearer token from its token service.

Tokens are cached per registry and scope (``repository:team/app:pull,push``);
a cached token whose scopes cover a request's scopes is reused until shortly
before it expires.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from hera_imagebuild.common.failures import FailureKind
from hera_imagebuild.common.redaction import remember_secret
from hera_imagebuild.common.untrusted_json import load_untrusted
from hera_imagebuild.pod.registry.credentials import Credential, DockerConfig
from hera_imagebuild.pod.registry.errors import RegistryError, error_from_response

_PARAM_RE = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_DEFAULT_TOKEN_LIFETIME = 60.0
_MAX_TOKEN_ANSWER = 1024 * 1024
"""The largest token service answer accepted."""
_EXPIRY_MARGIN = 10.0
_CLIENT_ID = "hera-imagebuild"

Sender = Callable[[httpx.Request], Awaitable[httpx.Response]]
"""Sends a request and returns the response with its body read."""


def pull_scope(repository: str) -> str:
    """The token scope for reading ``repository``."""
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    """The token scope for reading and writing ``repository``."""
    return f"repository:{repository}:pull,push"


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """Split a ``WWW-Authenticate`` value into its scheme (lower case) and parameters."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM_RE.finditer(rest)
    }
    return scheme.lower(), {k: v.replace('\\"', '"') for k, v in params.items()}


def _scope_map(scopes: Iterable[str]) -> dict[str, set[str]]:
    resources: dict[str, set[str]] = {}
    for scope in scopes:
        for item in scope.split():
            resource, _, actions = item.rpartition(":")
            resources.setdefault(resource, set()).update(a for a in actions.split(",") if a)
    return resources


def _merged(scopes: Iterable[str]) -> list[str]:
    """One scope per resource with all its actions (``pull`` before ``push``, as registries write them)."""
    return [f"{resource}:{','.join(sorted(actions))}" for resource, actions in _scope_map(scopes).items()]


def _covers(granted: dict[str, set[str]], wanted: dict[str, set[str]]) -> bool:
    return all(actions <= granted.get(resource, set()) for resource, actions in wanted.items())


@dataclass
class _Token:
    value: str
    scopes: dict[str, set[str]]
    expires: float

    def __repr__(self) -> str:
        return f"_Token(scopes={self.scopes!r})"


class Authenticator:
    """Authorization headers for one client, across registries.

    Args:
        config: Where credentials come from.
        insecure_hosts: Registries reached over plain HTTP; a token service on
            plain HTTP is sent credentials only when its host is one of these or
            the registry itself is.
    """

    def __init__(self, config: DockerConfig, insecure_hosts: frozenset[str] = frozenset()) -> None:
        self._config = config
        self._insecure = insecure_hosts
        self._basic: set[str] = set()
        self._tokens: dict[str, list[_Token]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def header(self, host: str, scopes: Iterable[str]) -> str | None:
        """The ``Authorization`` value to send to ``host`` for ``scopes``, if one is known."""
        if host in self._basic:
            credential = self._config.lookup(host)
            return _basic(credential) if credential else None
        wanted = _scope_map(scopes)
        now = time.monotonic()
        for token in self._tokens.get(host, []):
            if token.expires > now and _covers(token.scopes, wanted):
                return f"Bearer {token.value}"
        return None

    async def answer(
        self,
        host: str,
        challenge: str | None,
        scopes: list[str],
        *,
        rejected: str | None,
        operation: str,
        send: Sender,
    ) -> bool:
        """Prepare credentials for ``host`` after a 401 carrying ``challenge``.

        Concurrent requests that meet the same challenge share one token request.

        Args:
            host: The registry host.
            challenge: The ``WWW-Authenticate`` header.
            scopes: The scopes the request needs.
            rejected: The ``Authorization`` value the 401 answered, if any.
            operation: For error messages.
            send: Sends the token request.

        Returns:
            ``True`` when a retry with :meth:`header` may now succeed, ``False``
            when there is nothing more to offer (the caller reports the 401).

        Raises:
            RegistryError: When the token service fails or refuses.
        """
        if not challenge:
            return False
        scheme, params = parse_challenge(challenge)
        credential = self._config.lookup(host)
        if scheme == "basic":
            if credential is None or not credential.username:
                return False
            self._basic.add(host)
            return rejected != self.header(host, scopes)
        if scheme != "bearer" or "realm" not in params:
            return False
        async with self._locks.setdefault(host, asyncio.Lock()):
            current = self.header(host, scopes)
            if current is not None and current != rejected:
                return True  # another request fetched a token meanwhile
            wanted = list(scopes)
            if params.get("scope"):
                wanted.append(params["scope"])
            token = await self._fetch_token(host, params, wanted, credential, operation=operation, send=send)
            self._tokens.setdefault(host, []).insert(0, token)
        return True

    async def _fetch_token(
        self,
        host: str,
        params: dict[str, str],
        scopes: list[str],
        credential: Credential | None,
        *,
        operation: str,
        send: Sender,
    ) -> _Token:
        realm = httpx.URL(params["realm"])
        what = f"{operation}: token request"
        if realm.scheme not in ("https", "http"):
            raise RegistryError(
                f"token realm scheme {realm.scheme!r} is not http(s)",
                kind=FailureKind.DETERMINISTIC,
                operation=what,
                host=host,
            )
        realm_host = realm.netloc.decode("ascii")
        if credential and realm.scheme == "http" and not ({host, realm_host} & self._insecure):
            raise RegistryError(
                f"refusing to send credentials to token service {realm_host} over plain HTTP "
                "(list it with --insecure-registry to allow this)",
                kind=FailureKind.DETERMINISTIC,
                operation=what,
                host=host,
            )
        unique_scopes = _merged(scopes)
        query: list[tuple[str, str | int | float | bool | None]] = [("scope", s) for s in unique_scopes]
        if params.get("service"):
            query.insert(0, ("service", params["service"]))
        if credential and credential.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": credential.identity_token}
            form["client_id"] = _CLIENT_ID
            if params.get("service"):
                form["service"] = params["service"]
            if unique_scopes:
                form["scope"] = " ".join(unique_scopes)
            request = httpx.Request("POST", realm, data=form)
        else:
            headers = {"Authorization": _basic(credential)} if credential and credential.username else {}
            request = httpx.Request("GET", realm.copy_merge_params(query), headers=headers)
        response = await send(request)
        if response.status_code != 200:
            error = error_from_response(response, operation=what, host=realm_host)
            if response.status_code in (401, 403):
                raise RegistryError(
                    "the token service rejected the credentials from the docker config"
                    if credential
                    else f"the token service requires credentials; the docker config has none for {host}",
                    kind=FailureKind.DETERMINISTIC,
                    operation=what,
                    host=realm_host,
                    status=response.status_code,
                    code=error.code or "UNAUTHORIZED",
                )
            raise error
        try:
            body: Any = load_untrusted(response.content, what="token answer", max_bytes=_MAX_TOKEN_ANSWER)
            value = str(body.get("token") or body.get("access_token") or "")
            lifetime = float(body.get("expires_in") or _DEFAULT_TOKEN_LIFETIME)
        except (ValueError, AttributeError, TypeError):
            value, lifetime = "", 0.0
        if not value:
            raise RegistryError(
                "the token service answered without a token",
                kind=FailureKind.TRANSIENT,
                operation=what,
                host=realm_host,
            )
        remember_secret(value)
        expires = time.monotonic() + max(lifetime - _EXPIRY_MARGIN, lifetime / 2)
        return _Token(value=value, scopes=_scope_map(unique_scopes), expires=expires)


def _basic(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.password}".encode()
    encoded = base64.b64encode(raw).decode("ascii")
    remember_secret(encoded)
    return "Basic " + encoded
