"""DNS with fake resolvers (no real DNS), and the system one only for localhost."""

from __future__ import annotations

import time

from aikinklab_ops.report import Status
from aikinklab_ops.verify.dns import DnsAnswer, ResolveError, check_dns, system_resolver
from aikinklab_ops.verify.settings import DnsSettings

VERCEL = DnsSettings(expect_vercel=True)


def fixed(answer: DnsAnswer):  # type: ignore[no-untyped-def]
    return lambda host: answer


def test_resolves_and_lists_addresses() -> None:
    result = check_dns(
        "https://www.example.test", DnsSettings(), resolver=fixed(DnsAnswer(("192.0.2.1", "192.0.2.2"))), timeout=1
    )
    assert result.status is Status.PASS
    assert result.details["addresses"] == ["192.0.2.1", "192.0.2.2"]


def test_vercel_by_a_record() -> None:
    result = check_dns("https://aikinklab.com", VERCEL, resolver=fixed(DnsAnswer(("76.76.21.21",))), timeout=1)
    assert result.status is Status.PASS
    assert "76.76.21.21" in result.summary


def test_vercel_by_cname_from_the_alias_chain() -> None:
    answer = DnsAnswer(("76.76.21.164",), canonical="cname.vercel-dns.com", aliases=("www.aikinklab.com",))
    result = check_dns("https://www.aikinklab.com", VERCEL, resolver=fixed(answer), timeout=1)
    assert result.status is Status.PASS
    assert result.details["cname"] == "cname.vercel-dns.com"


def test_pointing_elsewhere_fails_when_vercel_is_expected() -> None:
    answer = DnsAnswer(("203.0.113.9",), canonical="old-host.example.net", aliases=("www.aikinklab.com",))
    result = check_dns("https://www.aikinklab.com", VERCEL, resolver=fixed(answer), timeout=1)
    assert result.status is Status.FAIL
    assert "not to Vercel" in result.summary
    assert "203.0.113.9" in result.summary
    assert (
        check_dns("https://www.aikinklab.com", DnsSettings(), resolver=fixed(answer), timeout=1).status is Status.PASS
    )


def test_unresolvable_host_fails_with_the_reason() -> None:
    def nx(host: str) -> DnsAnswer:
        raise ResolveError(f"{host} does not resolve: Name or service not known")

    result = check_dns("https://nope.aikinklab.com", DnsSettings(), resolver=nx, timeout=1)
    assert result.status is Status.FAIL
    assert "does not resolve" in result.summary


def test_a_hanging_resolver_is_cut_off_at_the_timeout() -> None:
    def hang(host: str) -> DnsAnswer:
        time.sleep(2)
        return DnsAnswer(("192.0.2.1",))

    t0 = time.monotonic()
    result = check_dns("https://slow.example.test", DnsSettings(), resolver=hang, timeout=0.1)
    assert result.status is Status.FAIL
    assert "longer than 0.1s" in result.summary
    assert time.monotonic() - t0 < 1.5


def test_ip_literal_needs_no_resolution() -> None:
    result = check_dns("http://127.0.0.1:8080", DnsSettings(), timeout=1)
    assert result.status is Status.PASS
    assert result.details["addresses"] == ["127.0.0.1"]
    assert check_dns("http://127.0.0.1:8080", VERCEL, timeout=1).status is Status.FAIL


def test_system_resolver_on_localhost() -> None:
    answer = system_resolver("localhost")
    assert any(a in ("127.0.0.1", "::1") for a in answer.addresses)
