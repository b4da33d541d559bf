"""A throwaway certificate authority and a loopback server certificate, made with the openssl CLI.

The server certificate names ``IP:127.0.0.1`` and ``DNS:localhost`` in its
subjectAltName, which is what Go (the registry, skopeo) and httpx check. The
``cert_dir`` holds only the CA certificate as ``ca.crt``: skopeo (and our
``--cert-dir``) read every ``*.crt`` in a cert dir as a CA, and treat
``*.cert``/``*.key`` pairs as client certificates, so nothing else may live there.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from hera_imagebuild.sandbox.process import require_binary, run_checked

__all__ = ["TLSFiles", "make_tls"]

# ECDSA P-256: generated in milliseconds (RSA 2048 takes a noticeable part of a second).
_EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")


@dataclass(frozen=True)
class TLSFiles:
    """Paths of a CA and a server certificate signed by it (all PEM)."""

    ca_cert: Path
    """The CA certificate clients must trust."""
    ca_key: Path
    server_cert: Path
    server_key: Path
    cert_dir: Path
    """A directory holding only ``ca.crt`` (for skopeo's ``--*-cert-dir`` and our ``--cert-dir``)."""

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts only this CA (``httpx.Client(verify=...)``)."""
        return ssl.create_default_context(cafile=str(self.ca_cert))

    def server_context(self) -> ssl.SSLContext:
        """An SSL context that serves the server certificate (for a TLS front on the fault proxy)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_cert, self.server_key)
        return context


def make_tls(directory: Path, *, days: int = 2) -> TLSFiles:
    """Create a CA and a server certificate for 127.0.0.1 in ``directory``.

    Args:
        directory: Where to write the files (created if missing).
        days: Validity of both certificates.

    Raises:
        SandboxError: If openssl is missing or fails.
    """
    openssl = require_binary("openssl", "Debian package openssl")
    directory.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(
        ca_cert=directory / "ca.pem",
        ca_key=directory / "ca.key",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        cert_dir=directory / "certs.d",
    )
    run_checked(
        [openssl, "req", "-x509", *_EC_KEY, "-nodes", "-sha256", "-days", str(days),
         "-subj", "/CN=hera-imagebuild sandbox CA", "-keyout", str(files.ca_key), "-out", str(files.ca_cert),
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    )  # fmt: skip
    csr = directory / "server.csr"
    run_checked(
        [openssl, "req", "-new", *_EC_KEY, "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", str(files.server_key), "-out", str(csr)],
    )  # fmt: skip
    extensions = directory / "server.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
    )
    run_checked(
        [openssl, "x509", "-req", "-in", str(csr), "-CA", str(files.ca_cert), "-CAkey", str(files.ca_key),
         "-CAcreateserial", "-sha256", "-days", str(days), "-extfile", str(extensions),
         "-out", str(files.server_cert)],
    )  # fmt: skip
    files.cert_dir.mkdir(exist_ok=True)
    (files.cert_dir / "ca.crt").write_bytes(files.ca_cert.read_bytes())
    return files
