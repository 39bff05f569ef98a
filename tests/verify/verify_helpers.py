"""Shared pieces of the verify tests: certificates cryptography can make, and HTTPS servers for them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from aikinklab_ops.site.localca import IssuedCert, PrivateKey, new_key, server_context
from aikinklab_ops.site.server import SiteServer

NOW = datetime.now(timezone.utc)


def self_signed(host: str, *, days: int = 90, key: PrivateKey | None = None) -> IssuedCert:
    key = key or new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return IssuedCert(cert, key)


@contextmanager
def https_server(issued: IssuedCert, *, weak: bool = False) -> Iterator[SiteServer]:
    """A real TLS server on 127.0.0.1 presenting ``issued`` (it serves no deployment)."""
    with SiteServer(lambda: None, ssl_context=server_context(issued, weak=weak)) as srv:
        yield srv


def closed_port() -> int:
    """A port nothing listens on: bound once, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
