"""TLS against real HTTPS servers on 127.0.0.1 presenting good and bad certificates."""

from __future__ import annotations

import ssl
import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from verify_helpers import NOW, closed_port, https_server, self_signed

from aikinklab_ops.errors import InputError
from aikinklab_ops.report import Status
from aikinklab_ops.site.localca import LocalCA, new_key, server_context
from aikinklab_ops.site.server import SiteServer
from aikinklab_ops.verify.settings import TlsSettings
from aikinklab_ops.verify.tls import check_tls, hostname_matches, judge_certificate

DATA = Path(__file__).resolve().parents[1] / "data" / "verify"
SETTINGS = TlsSettings()


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA("test CA")


@pytest.fixture
def bundle(ca: LocalCA, tmp_path: Path) -> Path:
    return ca.write_bundle(tmp_path / "ca.pem")


def test_a_good_certificate_passes_with_its_description(ca: LocalCA, bundle: Path) -> None:
    with https_server(ca.issue(["127.0.0.1"])) as srv:
        result = check_tls(srv.url, SETTINGS, ca_bundle=bundle, timeout=3)
    assert result.status is Status.PASS, result.summary
    d = result.details
    assert d["chain_verified"] is True
    assert d["protocol"] in ("TLSv1.2", "TLSv1.3")
    assert d["issuer"] == "CN=test CA"
    assert d["san"] == ["127.0.0.1"]
    assert 88 <= d["days_left"] <= 90
    assert d["key"] == "EC secp256r1 256"
    assert d["signature"] == "sha256"


def test_untrusted_chain_fails_but_the_certificate_is_still_described(ca: LocalCA) -> None:
    with https_server(ca.issue(["127.0.0.1"])) as srv:
        result = check_tls(srv.url, SETTINGS, ca_bundle=None, timeout=3)
    assert result.status is Status.FAIL
    assert "not trusted" in result.summary
    assert result.details["chain_verified"] is False
    assert result.details["subject"] == "CN=127.0.0.1"


def test_self_signed_is_named_as_such(tmp_path: Path) -> None:
    with https_server(self_signed("localhost")) as srv:
        url = f"https://localhost:{srv.port}"
        result = check_tls(url, SETTINGS, timeout=3)
    assert result.status is Status.FAIL
    assert "not trusted: self-signed" in result.summary
    assert result.details["self_signed"] is True
    assert result.details["subject"] == result.details["issuer"] == "CN=localhost"


def test_wrong_host_lists_the_names_the_certificate_has(ca: LocalCA, bundle: Path) -> None:
    with https_server(ca.issue(["shop.example.test", "*.example.test"])) as srv:
        result = check_tls(f"https://localhost:{srv.port}", SETTINGS, ca_bundle=bundle, timeout=3)
    assert result.status is Status.FAIL
    assert "localhost is not among the certificate's names: shop.example.test, *.example.test" in result.summary
    assert result.details["chain_verified"] is True  # trusted, just for other names


def test_expired_certificate_reports_dates_and_days(ca: LocalCA, bundle: Path) -> None:
    issued = ca.issue(["127.0.0.1"], not_before=NOW - timedelta(days=100), not_after=NOW - timedelta(days=3))
    with https_server(issued) as srv:
        result = check_tls(srv.url, SETTINGS, ca_bundle=bundle, timeout=3)
    assert result.status is Status.FAIL
    assert "expired 3 day(s) ago" in result.summary or "expired 4 day(s) ago" in result.summary
    assert result.details["days_left"] in (-3, -4)
    assert result.details["not_after"].startswith((NOW - timedelta(days=3)).strftime("%Y-%m-%d"))
    assert "not_before" in result.details
    assert "expired" in " ".join(result.details["problems"])


def test_expiring_in_five_days_fails_and_in_twenty_warns(ca: LocalCA, bundle: Path) -> None:
    soon = ca.issue(["127.0.0.1"], not_after=NOW + timedelta(days=5, hours=1))
    with https_server(soon) as srv:
        result = check_tls(srv.url, SETTINGS, ca_bundle=bundle, timeout=3)
    assert result.status is Status.FAIL
    assert result.summary == "expires in 5 day(s), under tls.min_days 14"
    later = ca.issue(["127.0.0.1"], not_after=NOW + timedelta(days=20, hours=1))
    with https_server(later) as srv:
        result = check_tls(srv.url, SETTINGS, ca_bundle=bundle, timeout=3)
    assert result.status is Status.WARN
    assert result.summary == "expires in 20 day(s), under tls.warn_days 30"


def test_small_rsa_key_fails(ca: LocalCA, bundle: Path) -> None:
    weak = ca.issue(["127.0.0.1"], key=new_key("rsa", 1024))
    with https_server(weak, weak=True) as srv:
        result = check_tls(srv.url, SETTINGS, ca_bundle=bundle, timeout=3)
    assert result.status is Status.FAIL
    assert "RSA key of 1024 bits, under tls.min_rsa_bits 2048" in result.summary


def test_sha1_signature_fails() -> None:
    # cryptography no longer signs with SHA-1; this one was made with OpenSSL (tests/data/verify/README.md).
    cert = x509.load_pem_x509_certificate((DATA / "sha1-signed.pem").read_bytes())
    result = judge_certificate(cert, host="sha1.example.test", now=NOW, settings=SETTINGS, chain_verified=True)
    assert result.status is Status.FAIL
    assert result.summary == "signed with SHA1, which browsers reject"
    assert result.details["signature"] == "sha1"


def test_fixture_rsa1024_and_old_protocol_judged_purely() -> None:
    cert = x509.load_pem_x509_certificate((DATA / "rsa1024.pem").read_bytes())
    result = judge_certificate(
        cert, host="weak.example.test", now=NOW, settings=SETTINGS, chain_verified=True, protocol="TLSv1.1"
    )
    assert result.status is Status.FAIL
    problems = result.details["problems"]
    assert "RSA key of 1024 bits, under tls.min_rsa_bits 2048" in problems
    assert "negotiated TLSv1.1, older than tls.min_version TLSv1.2" in problems


@pytest.mark.parametrize(
    ("host", "names", "expected"),
    [
        ("www.aikinklab.com", ["*.aikinklab.com"], True),
        ("aikinklab.com", ["*.aikinklab.com"], False),
        ("a.b.aikinklab.com", ["*.aikinklab.com"], False),
        ("WWW.AIKINKLAB.COM", ["www.aikinklab.com"], True),
        ("x.com", ["*.com"], False),
    ],
)
def test_hostname_matching_follows_browsers(host: str, names: list[str], expected: bool) -> None:
    assert hostname_matches(host, names, []) is expected


def test_http_target_is_skipped_with_the_reason() -> None:
    result = check_tls("http://127.0.0.1:8080", SETTINGS, timeout=1)
    assert result.status is Status.SKIP
    assert "no TLS" in result.summary


def test_refused_port_fails_cleanly() -> None:
    result = check_tls(f"https://127.0.0.1:{closed_port()}", SETTINGS, timeout=1)
    assert result.status is Status.FAIL
    assert "refused" in result.summary


def test_plain_http_server_on_an_https_url_is_a_handshake_failure(tmp_path: Path) -> None:
    with SiteServer(lambda: tmp_path) as srv:
        result = check_tls(f"https://127.0.0.1:{srv.port}", SETTINGS, timeout=2)
    assert result.status is Status.FAIL
    assert "TLS handshake with 127.0.0.1" in result.summary


def test_a_bundle_that_is_not_pem_is_a_usage_error(tmp_path: Path) -> None:
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate", encoding="utf-8")
    with pytest.raises(InputError) as info:
        check_tls("https://127.0.0.1:1", SETTINGS, ca_bundle=junk, timeout=1)
    assert "not a readable PEM CA bundle" in str(info.value)


def test_a_server_that_only_speaks_tls_1_1_is_described_and_fails(ca: LocalCA, bundle: Path) -> None:
    ctx = server_context(ca.issue(["127.0.0.1"]), weak=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with SiteServer(lambda: None, ssl_context=ctx) as srv:
        result = check_tls(srv.url, SETTINGS, ca_bundle=bundle, timeout=3)
    assert result.status is Status.FAIL
    assert result.details["protocol"] == "TLSv1.1"
    assert "negotiated TLSv1.1, older than tls.min_version TLSv1.2" in result.details["problems"]
    assert result.details["chain_verified"] is None
