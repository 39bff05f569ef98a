"""A throwaway certificate authority, made at run time, for serving a local site over HTTPS.

The demo and the sandbox serve real TLS so the TLS check does a real verification: the client is
handed this CA as its bundle, exactly as an operator would pass ``--ca-bundle`` for a private CA.
Keys live only in memory and in the temporary files the caller asks for.
"""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def new_key(kind: str = "ec", bits: int = 256) -> PrivateKey:
    """``ec`` (P-256/P-384) is fast to make; ``rsa`` exists to test key-size rules."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return ec.generate_private_key(ec.SECP384R1() if bits >= 384 else ec.SECP256R1())


def _pem_key(key: PrivateKey) -> bytes:
    fmt = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def _san(hosts: list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


@dataclass(frozen=True)
class IssuedCert:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _pem_key(self.key)


class LocalCA:
    def __init__(self, name: str = "aikinklab-ops local CA") -> None:
        self.key = new_key()
        now = datetime.now(timezone.utc)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        hosts: list[str],
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key: PrivateKey | None = None,
    ) -> IssuedCert:
        """A server certificate for ``hosts`` (names or IPs), 90 days by default."""
        now = datetime.now(timezone.utc)
        leaf_key = key or new_key()
        cn = hosts[0] if hosts else "localhost"
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.cert.subject)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(minutes=5))
            .not_valid_after(not_after or now + timedelta(days=90))
            .add_extension(_san(hosts), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return IssuedCert(cert, leaf_key)

    def write_bundle(self, path: Path) -> Path:
        path.write_bytes(self.cert_pem)
        return path


def server_context(issued: IssuedCert, *, chain: bytes = b"", weak: bool = False) -> ssl.SSLContext:
    """A server-side context for ``issued``; ``weak`` lets it load certificates OpenSSL frowns on."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if weak:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    # load_cert_chain wants files; they exist only for the moment it reads them.
    with tempfile.TemporaryDirectory(prefix="aikinklab-cert-") as tmp:
        cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_file.write_bytes(issued.cert_pem + chain)
        key_file.write_bytes(issued.key_pem)
        key_file.chmod(0o600)
        ctx.load_cert_chain(str(cert_file), str(key_file))
    return ctx
