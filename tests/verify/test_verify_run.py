"""The whole verification against the bundled site over real HTTPS, and its failure modes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from verify_helpers import closed_port, write

from aikinklab_ops.config import load_config
from aikinklab_ops.errors import InputError, UsageError
from aikinklab_ops.http import make_session
from aikinklab_ops.report import Status
from aikinklab_ops.site.example import example_site
from aikinklab_ops.site.localca import LocalCA, server_context
from aikinklab_ops.site.server import SiteServer, folder
from aikinklab_ops.verify import VerifySettings, parse_only, run_verification, target_url
from aikinklab_ops.verify.dns import DnsAnswer
from aikinklab_ops.verify.settings import HealthSettings, LatencySettings, PageSpec

DATA = Path(__file__).resolve().parents[1] / "data" / "verify"
SETTINGS = VerifySettings(
    timeout_s=3,
    health=HealthSettings(deadline_s=0.3, retry_interval_s=0.05),
    pages=(PageSpec("/", "home", contains="AIKinkLab"), PageSpec("/pricing", "pricing"), PageSpec("/home", "old", 308)),
    latency=LatencySettings(samples=6, concurrency=3),
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The bundled site on https://localhost, and the CA bundle that trusts it."""
    ca = LocalCA()
    bundle = ca.write_bundle(tmp_path_factory.mktemp("ca") / "ca.pem")
    with example_site() as root, SiteServer(folder(root), ssl_context=server_context(ca.issue(["localhost"]))) as srv:
        yield f"https://localhost:{srv.port}", bundle


def test_the_example_site_passes_every_check(site: tuple[str, Path]) -> None:
    url, bundle = site
    report = run_verification(url, SETTINGS, ca_bundle=bundle)
    assert [c.name for c in report.checks] == [
        "health", "pages", "security-headers", "tls", "dns", "latency", "error-rate",
    ]  # fmt: skip
    assert report.ok, [(c.name, c.summary) for c in report.checks if c.status is not Status.PASS]
    assert all(c.status is Status.PASS for c in report.checks)
    assert report.kind == "verify"
    assert report.target == url
    assert report.outputs["url"] == url
    assert report.outputs["grade"] in ("A", "A+")
    assert report.check("dns").details["addresses"] == ["127.0.0.1"]


def test_only_runs_the_named_checks_in_report_order(site: tuple[str, Path]) -> None:
    url, bundle = site
    report = run_verification(url, SETTINGS, checks=["tls", "health"], ca_bundle=bundle)
    assert [c.name for c in report.checks] == ["health", "tls"]
    assert report.outputs["grade"] == ""
    only_errors = run_verification(url, SETTINGS, checks=["error-rate"], ca_bundle=bundle)
    assert [c.name for c in only_errors.checks] == ["error-rate"]


def test_unknown_check_is_a_usage_error_naming_the_valid_ones() -> None:
    with pytest.raises(UsageError) as info:
        parse_only("health,tsl")
    assert "unknown check 'tsl'" in str(info.value)
    assert "valid checks: health, pages, security-headers, tls, dns, latency, error-rate, web-vitals" in str(info.value)
    with pytest.raises(UsageError):
        run_verification("https://localhost:1", SETTINGS, checks=["nope"])
    with pytest.raises(UsageError):
        parse_only(" , ")


def test_a_refused_target_is_a_report_of_failures_not_a_crash() -> None:
    url = f"https://127.0.0.1:{closed_port()}"
    report = run_verification(url, SETTINGS, checks=["health", "pages", "security-headers", "tls", "latency"])
    assert not report.ok
    for check in report.checks:
        assert check.status is Status.FAIL, check
        assert "refused" in check.summary, check.summary


def test_a_crashing_check_becomes_an_error_and_the_others_still_report(site: tuple[str, Path]) -> None:
    url, bundle = site

    def broken(host: str) -> DnsAnswer:
        raise RuntimeError("resolver bug")

    report = run_verification(url, SETTINGS, checks=["dns", "health"], ca_bundle=bundle, resolver=broken)
    assert report.check("dns").status is Status.ERROR
    assert "resolver bug" in report.check("dns").summary
    assert report.check("health").status is Status.PASS


def test_web_vitals_with_a_lighthouse_report(site: tuple[str, Path]) -> None:
    url, _ = site
    report = run_verification(url, SETTINGS, checks=["web-vitals"], vitals=[DATA / "nextjs-home-lhr.json"])
    assert [c.name for c in report.checks] == ["web-vitals"]
    assert report.check("web-vitals").status is Status.PASS, report.check("web-vitals").summary


def test_vitals_add_web_vitals_to_the_configured_checks(site: tuple[str, Path]) -> None:
    url, bundle = site
    settings = replace(SETTINGS, checks=("health",))
    report = run_verification(url, settings, ca_bundle=bundle, vitals=[DATA / "nextjs-home-lhr.json"])
    assert [c.name for c in report.checks] == ["health", "web-vitals"]
    no_vitals = run_verification(url, SETTINGS, checks=["web-vitals"], ca_bundle=bundle)
    assert no_vitals.check("web-vitals").status is Status.SKIP


def test_missing_vitals_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        run_verification("https://localhost:1", SETTINGS, vitals=[tmp_path / "lhr.json"])
    assert "lhr.json: no such file (--vitals)" in str(info.value)


def test_settings_from_config_apply_the_sla_unless_overridden(tmp_path: Path) -> None:
    defaults = VerifySettings.from_config(load_config(None, env={}, cwd=tmp_path))
    assert (defaults.latency.p95_ms, defaults.latency.max_error_percent) == (2000, 0.1)
    assert defaults.checks[0] == "health" and "web-vitals" not in defaults.checks
    write(
        tmp_path / "ops.yml",
        "sla: {p95_ms: 900, error_rate_percent: 1}\n"
        "verify:\n  latency: {p95_ms: 500}\n  pages: [{path: /about, contains: About}]\n  tls: {min_days: 7}\n",
    )
    cfg = load_config(None, env={}, cwd=tmp_path)
    settings = VerifySettings.from_config(cfg)
    assert (settings.latency.p95_ms, settings.latency.max_error_percent) == (500, 1)
    assert settings.pages == (PageSpec("/about", "/about", 200, contains="About"),)
    assert (settings.tls.min_days, settings.tls.warn_days) == (7, 30)


def test_target_url_comes_from_the_environment_or_the_flag(tmp_path: Path) -> None:
    cfg = load_config(None, env={}, cwd=tmp_path)
    assert target_url(cfg, url=None, env="production") == "https://www.aikinklab.com"
    assert target_url(cfg, url=None, env="staging") == "https://staging.aikinklab.com"
    assert target_url(cfg, url="http://127.0.0.1:8080/", env="production") == "http://127.0.0.1:8080"
    with pytest.raises(UsageError) as info:
        target_url(cfg, url=None, env="preview")
    assert "environments.preview.url is not set" in str(info.value)
    assert "--url" in str(info.value)
    with pytest.raises(UsageError):
        target_url(cfg, url=None, env="qa")
    with pytest.raises(UsageError):
        target_url(cfg, url="ftp://example.com", env="production")


def test_the_ca_bundle_wins_over_requests_ca_bundle_in_the_environment(
    site: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests would otherwise let REQUESTS_CA_BUNDLE replace the session's bundle (psf/requests#3829).
    url, bundle = site
    other = LocalCA("unrelated CA").write_bundle(tmp_path / "other.pem")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(other))
    assert make_session(retries=0, verify=str(bundle)).get(url + "/", timeout=3).status_code == 200
    report = run_verification(url, SETTINGS, checks=["health", "pages"], ca_bundle=bundle)
    assert report.ok, [c.summary for c in report.checks]
