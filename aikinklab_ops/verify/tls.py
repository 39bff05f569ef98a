"""The certificate and the TLS session a visitor gets.

Two handshakes when needed: the first verifies the chain (against the system store or a CA
bundle), so we learn whether browsers will trust it; when that fails, a second without
verification still fetches the certificate, so an expired, self-signed or wrong-host one is
described (subject, issuer, dates, reason) instead of ending in an unreadable handshake error.
The hostname is matched by us against the SANs, which keeps "wrong host" apart from "untrusted
chain". Judging the certificate is a pure function of the parsed certificate and the clock.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from aikinklab_ops.errors import InputError
from aikinklab_ops.report import CheckResult, Status
from aikinklab_ops.verify.settings import TlsSettings
from aikinklab_ops.verify.urls import is_ip

NAME = "tls"
_VERSIONS = {"SSLv3": 0, "TLSv1": 1, "TLSv1.1": 2, "TLSv1.2": 3, "TLSv1.3": 4}
_WEAK_HASHES = ("sha1", "md5", "md2", "md4")


@dataclass(frozen=True)
class Handshake:
    """What the TLS connection showed: the leaf certificate and how far it could be trusted."""

    der: bytes
    protocol: str | None
    cipher: str | None
    chain_verified: bool | None  # None: the verifying handshake failed for another reason
    verify_error: str | None = None


class HandshakeError(Exception):
    """No TLS session at all (refused, timeout, protocol mismatch); the message says which."""


def _name(name: x509.Name) -> str:
    return name.rfc4514_string() or "(empty)"


def _cn(name: x509.Name) -> str | None:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None


def _san(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return [], []
    assert isinstance(ext, x509.SubjectAlternativeName)
    return ext.get_values_for_type(x509.DNSName), [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]


def hostname_matches(host: str, dns_names: list[str], ips: list[str]) -> bool:
    """RFC 6125 matching as browsers do it: SANs only, a wildcard only as the whole leftmost label."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return any(ipaddress.ip_address(x) == ip for x in ips)
    host = host.rstrip(".").lower()
    for pattern in dns_names:
        pattern = pattern.rstrip(".").lower()
        if pattern == host:
            return True
        if pattern.startswith("*.") and "." in host:
            label, rest = host.split(".", 1)
            if label and rest == pattern[2:] and rest.count(".") >= 1:
                return True
    return False


def _key(cert: x509.Certificate) -> tuple[str, int | None]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, None


def _utc(cert: x509.Certificate, which: str) -> datetime:
    aware = getattr(cert, f"{which}_utc", None)
    if isinstance(aware, datetime):
        return aware
    naive: datetime = getattr(cert, which)
    return naive.replace(tzinfo=timezone.utc)


def judge_certificate(
    cert: x509.Certificate,
    *,
    host: str,
    now: datetime,
    settings: TlsSettings,
    chain_verified: bool | None,
    verify_error: str | None = None,
    protocol: str | None = None,
    cipher: str | None = None,
) -> CheckResult:
    """The verdict on a certificate and session; every reason it is not fine is listed."""
    not_before, not_after = _utc(cert, "not_valid_before"), _utc(cert, "not_valid_after")
    seconds_left = (not_after - now).total_seconds()
    days_left = int(seconds_left // 86400)
    dns_names, ips = _san(cert)
    key_type, key_bits = _key(cert)
    sig_hash = cert.signature_hash_algorithm
    sig_name = sig_hash.name if isinstance(sig_hash, hashes.HashAlgorithm) else None
    self_signed = cert.issuer == cert.subject
    details: dict[str, Any] = {
        "host": host,
        "subject": _name(cert.subject),
        "issuer": _name(cert.issuer),
        "not_before": not_before.isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": days_left,
        "san": dns_names + ips,
        "key": f"{key_type} {key_bits}" if key_bits else key_type,
        "signature": sig_name or "(none: the key signs directly)",
        "protocol": protocol,
        "cipher": cipher,
        "chain_verified": chain_verified,
        "self_signed": self_signed,
        "serial": format(cert.serial_number, "x"),
    }
    fails: list[str] = []
    warns: list[str] = []
    if seconds_left <= 0:
        days_ago = int(-seconds_left // 86400)  # whole days since expiry; days_left floors the other way
        fails.append(f"expired {days_ago} day(s) ago (not_after {not_after:%Y-%m-%d})")
    elif now < not_before:
        fails.append(f"not valid until {not_before:%Y-%m-%d %H:%M} UTC")
    elif days_left < settings.min_days:
        fails.append(f"expires in {days_left} day(s), under tls.min_days {settings.min_days}")
    elif days_left < settings.warn_days:
        warns.append(f"expires in {days_left} day(s), under tls.warn_days {settings.warn_days}")
    if not hostname_matches(host, dns_names, ips):
        names = ", ".join(dns_names + ips) or f"none (CN {_cn(cert.subject)!r} is not used by browsers)"
        fails.append(f"{host} is not among the certificate's names: {names}")
    if chain_verified is None:
        fails.append(f"the verifying handshake failed: {verify_error or 'no reason given'}")
    elif not chain_verified:
        why = "self-signed" if self_signed else (verify_error or "the chain does not verify")
        fails.append(f"not trusted: {why}")
    if sig_name in _WEAK_HASHES:
        fails.append(f"signed with {sig_name.upper()}, which browsers reject")
    if key_bits is not None:
        if key_type == "RSA" and key_bits < settings.min_rsa_bits:
            fails.append(f"RSA key of {key_bits} bits, under tls.min_rsa_bits {settings.min_rsa_bits}")
        elif key_type.startswith("EC") and key_bits < settings.min_ec_bits:
            fails.append(f"EC key of {key_bits} bits, under tls.min_ec_bits {settings.min_ec_bits}")
        elif key_type == "DSA":
            fails.append("DSA key, which browsers no longer accept")
    if protocol is not None and _VERSIONS.get(protocol, 99) < _VERSIONS[settings.min_version]:
        fails.append(f"negotiated {protocol}, older than tls.min_version {settings.min_version}")
    if fails or warns:
        details["problems"] = fails + warns
    status = Status.FAIL if fails else Status.WARN if warns else Status.PASS
    if fails:
        summary = "; ".join(fails)
    elif warns:
        summary = "; ".join(warns)
    else:
        issuer = _cn(cert.issuer) or details["issuer"]
        summary = f"valid for {days_left} more days, {details['key']}, {protocol or 'TLS'}, issued by {issuer}"
    return CheckResult(NAME, status, summary, details)


def _connect(host: str, port: int, context: ssl.SSLContext, timeout: float) -> tuple[bytes, str | None, str | None]:
    with socket.create_connection((host, port), timeout=timeout) as raw:
        server_name = None if is_ip(host) else host
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            der = tls.getpeercert(binary_form=True)
            cipher = tls.cipher()
            if not der:
                raise HandshakeError(f"{host}:{port} sent no certificate")
            return der, tls.version(), cipher[0] if cipher else None


def trust_store(ca_bundle: Path | None) -> ssl.SSLContext:
    """A verifying client context; a bundle that is not PEM certificates is the operator's error."""
    try:
        return ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    except (OSError, ssl.SSLError) as err:
        raise InputError(
            f"{ca_bundle}: not a readable PEM CA bundle ({getattr(err, 'reason', None) or err})",
            hint="pass --ca-bundle a file of PEM certificates (-----BEGIN CERTIFICATE-----)",
        ) from err


def handshake(host: str, port: int, *, ca_bundle: Path | None, timeout: float) -> Handshake:
    verifying = trust_store(ca_bundle)
    verifying.check_hostname = False  # matched against the SANs by judge_certificate
    verifying.verify_mode = ssl.CERT_REQUIRED
    verify_error: str | None = None
    first_error: str | None = None
    try:
        der, protocol, cipher = _connect(host, port, verifying, timeout)
        return Handshake(der, protocol, cipher, chain_verified=True)
    except ssl.SSLCertVerificationError as err:
        verify_error = err.verify_message or str(err)
    except ssl.SSLError as err:
        first_error = err.reason or str(err)
    except OSError as err:
        raise HandshakeError(_describe_os_error(err, host, port, timeout)) from err
    # Look at the certificate anyway, accepting whatever the server offers.
    lenient = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    lenient.check_hostname = False
    lenient.verify_mode = ssl.CERT_NONE
    try:
        lenient.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        lenient.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pass
    try:
        der, protocol, cipher = _connect(host, port, lenient, timeout)
    except ssl.SSLError as err:
        reason = verify_error or first_error
        raise HandshakeError(f"TLS handshake with {host}:{port} failed: {reason or err.reason or err}") from err
    except OSError as err:
        raise HandshakeError(_describe_os_error(err, host, port, timeout)) from err
    if verify_error is None:
        return Handshake(der, protocol, cipher, chain_verified=None, verify_error=first_error)
    return Handshake(der, protocol, cipher, chain_verified=False, verify_error=verify_error)


def _describe_os_error(err: OSError, host: str, port: int, timeout: float) -> str:
    if isinstance(err, socket.timeout | TimeoutError):
        return f"connecting to {host}:{port} timed out after {timeout:g}s"
    if isinstance(err, ConnectionRefusedError):
        return f"connection to {host}:{port} refused (nothing listening there?)"
    if isinstance(err, socket.gaierror):
        return f"cannot resolve {host}: {err.strerror or err}"
    return f"cannot connect to {host}:{port}: {err.strerror or err}"


def check_tls(
    url: str,
    settings: TlsSettings,
    *,
    ca_bundle: Path | None = None,
    timeout: float,
    now: datetime | None = None,
) -> CheckResult:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https":
        return CheckResult(NAME, Status.SKIP, f"{parts.scheme}:// target: there is no TLS to check", {"host": host})
    port = parts.port or 443
    try:
        shake = handshake(host, port, ca_bundle=ca_bundle, timeout=timeout)
    except HandshakeError as err:
        return CheckResult(NAME, Status.FAIL, str(err), {"host": host, "port": port})
    try:
        cert = x509.load_der_x509_certificate(shake.der)
    except ValueError as err:
        return CheckResult(NAME, Status.FAIL, f"the certificate of {host} cannot be parsed: {err}", {"host": host})
    result = judge_certificate(
        cert,
        host=host,
        now=now or datetime.now(timezone.utc),
        settings=settings,
        chain_verified=shake.chain_verified,
        verify_error=shake.verify_error,
        protocol=shake.protocol,
        cipher=shake.cipher,
    )
    if ca_bundle is not None:
        return CheckResult(result.name, result.status, result.summary, {**result.details, "ca_bundle": str(ca_bundle)})
    return result
