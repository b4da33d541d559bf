"""A small bearer-token issuer: the Docker token protocol, as Docker Hub, GHCR and Harbor speak it.

A registry configured with ``auth: token`` answers ``401`` with
``WWW-Authenticate: Bearer realm=...,service=...,scope=...``; the client then
asks the realm ``GET realm?service=S&scope=repository:NAME:pull,push`` with
HTTP basic credentials and retries with ``Authorization: Bearer <token>``.
:class:`TokenIssuer` is that realm on loopback: a threaded HTTP server that
checks users' passwords and grants each user only its allowed actions (so a
pull-only user gets a token without ``push`` and the registry denies the push).

The token is an RS256 JWT that distribution 2.8 accepts: ``iss`` = our issuer
name, ``aud`` = the service, ``access`` claims, and an ``x5c`` header holding the
signing certificate, which is also the registry's ``rootcertbundle`` (the
registry verifies the chain against that bundle, then the signature).
The key and certificate come from the openssl CLI; signing is PKCS#1 v1.5
done here with ``pow``, so no crypto package is needed and no process is
started per token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from hera_imagebuild.sandbox.credentials import Credentials
from hera_imagebuild.sandbox.process import Running, SandboxError, require_binary, run_checked
from hera_imagebuild.sandbox.registry import TokenAuth

__all__ = ["TokenGrant", "TokenIssuer", "TokenUser", "start_token_issuer"]

# DER prefix of DigestInfo for SHA-256 (RFC 8017, section 9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


@dataclass(frozen=True)
class TokenUser:
    """A user of the token issuer and the actions it may be granted on every repository."""

    password: str = field(repr=False)
    actions: tuple[str, ...] = ("pull", "push")


@dataclass(frozen=True)
class TokenGrant:
    """One token request the issuer answered (for tests to assert on)."""

    username: str | None
    requested: tuple[str, ...]
    """The ``scope`` values asked for."""
    granted: tuple[str, ...]
    """``repository:NAME:ACTIONS`` actually granted (empty if refused)."""
    status: int


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _der_integers(der: bytes) -> list[int]:
    """The INTEGERs of a DER SEQUENCE of INTEGERs (a PKCS#1 RSAPrivateKey)."""

    def length(at: int) -> tuple[int, int]:
        first = der[at]
        if first < 0x80:
            return first, at + 1
        count = first & 0x7F
        return int.from_bytes(der[at + 1 : at + 1 + count], "big"), at + 1 + count

    if der[0] != 0x30:
        raise SandboxError("signing key: not a DER SEQUENCE")
    _, at = length(1)
    values = []
    while at < len(der):
        if der[at] != 0x02:
            raise SandboxError("signing key: expected an INTEGER")
        size, at = length(at + 1)
        values.append(int.from_bytes(der[at : at + size], "big"))
        at += size
    return values


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic ...`` header, or None."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        username, _, password = base64.b64decode(authorization[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return username, password


class _RSASigner:
    """RS256 (RSASSA-PKCS1-v1_5 with SHA-256) with a key made by openssl."""

    def __init__(self, key_pem: Path) -> None:
        openssl = require_binary("openssl", "Debian package openssl")
        der = key_pem.with_suffix(".der")
        run_checked(
            [openssl, "rsa", "-in", str(key_pem), "-traditional", "-outform", "DER", "-out", str(der)]
        )
        _, self.modulus, _, self.private_exponent, *_ = _der_integers(der.read_bytes())
        der.unlink()
        self.size = (self.modulus.bit_length() + 7) // 8

    def sign(self, message: bytes) -> bytes:
        digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
        padded = b"\x00\x01" + b"\xff" * (self.size - len(digest_info) - 3) + b"\x00" + digest_info
        signature = pow(int.from_bytes(padded, "big"), self.private_exponent, self.modulus)
        return signature.to_bytes(self.size, "big")


class TokenIssuer(Running):
    """A Docker token realm on 127.0.0.1 (create with :func:`start_token_issuer`)."""

    def __init__(
        self,
        directory: Path,
        users: Mapping[str, TokenUser],
        *,
        service: str = "hera-imagebuild-sandbox",
        issuer: str = "hera-imagebuild-sandbox-issuer",
        lifetime: int = 300,
    ) -> None:
        self.users = dict(users)
        self.service = service
        self.issuer = issuer
        self.lifetime = lifetime
        self.cert_bundle = directory / "token-signer.pem"
        self._key = directory / "token-signer.key"
        self._make_signing_key()
        self._signer = _RSASigner(self._key)
        cert_der = base64.b64decode("".join(self.cert_bundle.read_text().strip().splitlines()[1:-1]))
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(cert_der).decode("ascii")]}
        self._header = _b64url(json.dumps(header, separators=(",", ":")).encode())
        self._lock = threading.Lock()
        self._grants: list[TokenGrant] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def _make_signing_key(self) -> None:
        openssl = require_binary("openssl", "Debian package openssl")
        run_checked(
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
             "-subj", "/CN=hera-imagebuild sandbox token signer",
             "-keyout", str(self._key), "-out", str(self.cert_bundle)],
        )  # fmt: skip

    @property
    def realm(self) -> str:
        """The token endpoint URL."""
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def token_auth(self) -> TokenAuth:
        """The ``auth: token`` settings for :func:`~hera_imagebuild.sandbox.registry.start_registry`."""
        return TokenAuth(
            realm=self.realm,
            service=self.service,
            issuer=self.issuer,
            root_cert_bundle=self.cert_bundle,
            users={name: Credentials(name, user.password) for name, user in self.users.items()},
        )

    @property
    def grants(self) -> list[TokenGrant]:
        """Every token request answered so far."""
        with self._lock:
            return list(self._grants)

    def __repr__(self) -> str:
        return f"TokenIssuer({self.realm}, users={sorted(self.users)})"

    # -- tokens ------------------------------------------------------------------------------------

    def issue(self, username: str, scopes: list[str], service: str) -> tuple[str, tuple[str, ...]]:
        """Sign a token for ``username`` granting what it may do of ``scopes``; return it and the grants."""
        allowed = set(self.users[username].actions)
        access = []
        granted = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            given = [action for action in actions.split(",") if action in allowed]
            access.append({"type": "repository", "name": name, "actions": given})
            granted.append(f"repository:{name}:{','.join(given)}")
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": username,
            "aud": service,
            "exp": now + self.lifetime,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = f"{self._header}.{_b64url(json.dumps(claims, separators=(',', ':')).encode())}"
        token = f"{signing_input}.{_b64url(self._signer.sign(signing_input.encode()))}"
        return token, tuple(granted)

    def _authenticate(self, credentials: tuple[str, str] | None) -> str | None:
        """The user name if ``credentials`` (user, password) are valid."""
        if credentials is None:
            return None
        username, password = credentials
        user = self.users.get(username)
        if user is None or not secrets.compare_digest(user.password, password):
            return None
        return username

    def handle(
        self, query: Mapping[str, list[str]], credentials: tuple[str, str] | None
    ) -> tuple[int, dict[str, object]]:
        """Answer one token request (query or form fields, basic credentials): (status, JSON body)."""
        scopes = [scope for value in query.get("scope", []) for scope in value.split(" ") if scope]
        service = (query.get("service") or [""])[0]
        username = self._authenticate(credentials)
        body: dict[str, object]
        granted: tuple[str, ...] = ()
        if service != self.service:
            status, body = 400, {"details": f"unknown service {service!r}"}
        elif username is None:
            status, body = 401, {"details": "authentication required: wrong user name or password"}
        else:
            token, granted = self.issue(username, scopes, service)
            status, body = 200, {"token": token, "access_token": token, "expires_in": self.lifetime}
        with self._lock:
            self._grants.append(TokenGrant(username, tuple(scopes), granted, status))
        return status, body

    # -- serving -----------------------------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> TokenIssuer:
        """Serve on a free loopback port in a background thread; returns self."""
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, query: Mapping[str, list[str]], credentials: tuple[str, str] | None) -> None:
                status, body = issuer.handle(query, credentials)
                data = json.dumps(body).encode()
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="hera-imagebuild-sandbox-token"')
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/token":
                    self.send_error(404)
                    return
                self._answer(parse_qs(parts.query), _basic_credentials(self.headers.get("Authorization")))

            def do_POST(self) -> None:
                # The OAuth2 password grant (form body), which some clients use instead of GET.
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                username = (form.get("username") or [""])[0]
                password = (form.get("password") or [""])[0]
                self._answer(form, (username, password) if username else None)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean; grants are recorded instead

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="token-issuer", daemon=True)
        self._thread.start()
        self._started(f"token issuer ({self.realm})")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and join the thread (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout)
        self._stopped()


def start_token_issuer(
    directory: Path, users: Mapping[str, TokenUser], *, lifetime: int = 300
) -> TokenIssuer:
    """Create a signing key and certificate in ``directory`` and start a :class:`TokenIssuer`.

    Args:
        directory: Where the key and the certificate bundle go (created if missing).
        users: User name -> password and allowed actions.
        lifetime: Token lifetime in seconds (``expires_in``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    return TokenIssuer(directory, users, lifetime=lifetime).start()
