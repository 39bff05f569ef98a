"""The security-audit gate on real `npm audit --json` outputs, the allowlist rules and fail-closed shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from gates_support import TODAY

from aikinklab_ops.config import Config
from aikinklab_ops.errors import ConfigError
from aikinklab_ops.gates import GateInputs, run_gates
from aikinklab_ops.gates.npm_audit import path_matches
from aikinklab_ops.report import CheckResult, Status


def audit(cfg: Config, report: Path, tmp_path: Path) -> CheckResult:
    inputs = GateInputs(cwd=tmp_path, audit_reports=(report,), today=TODAY)
    return run_gates(cfg, inputs, only=["security-audit"]).check("security-audit")


def config(write_config: Callable[[str], Config], fail_on: str = "high", allowlist: str = "[]") -> Config:
    return write_config(f"gates:\n  security_audit:\n    fail_on: {fail_on}\n    allowlist: {allowlist}\n")


CRYO = ("npm7-high-cryo.json", "npm6-high-cryo.json")


@pytest.mark.parametrize("name", CRYO)
def test_cryo_fails_on_high_naming_the_advisory(name: str, gates_data: Path, write_config, tmp_path: Path) -> None:
    result = audit(config(write_config), gates_data / "npm-audit" / name, tmp_path)
    assert result.status is Status.FAIL
    assert result.summary.startswith("1 high: cryo GHSA-38f5-ghc2-fcmv (no fix)")
    [finding] = result.details["failing"]
    assert finding == {
        "package": "cryo",
        "severity": "high",
        "advisory": "GHSA-38f5-ghc2-fcmv",
        "title": "Code Injection in cryo",
        "url": "https://github.com/advisories/GHSA-38f5-ghc2-fcmv",
        "paths": ["cryo"],
        "fix_available": "no fix available",
    }


@pytest.mark.parametrize("name", CRYO)
def test_cryo_passes_with_fail_on_critical(name: str, gates_data: Path, write_config, tmp_path: Path) -> None:
    result = audit(config(write_config, fail_on="critical"), gates_data / "npm-audit" / name, tmp_path)
    assert result.status is Status.WARN  # still listed, as a finding below the threshold
    assert [f["advisory"] for f in result.details["below_threshold"]] == ["GHSA-38f5-ghc2-fcmv"]
    assert result.details["failing"] == []


@pytest.mark.parametrize("name", CRYO)
def test_cryo_allowlisted_by_ghsa_passes(name: str, gates_data: Path, write_config, tmp_path: Path) -> None:
    entry = '[{id: GHSA-38f5-ghc2-fcmv, reason: "no patched release; input is trusted", expires: 2027-01-31}]'
    result = audit(config(write_config, allowlist=entry), gates_data / "npm-audit" / name, tmp_path)
    assert result.status is Status.PASS
    assert result.details["allowed"][0]["reason"] == "no patched release; input is trusted"
    assert "1 allowlisted" in result.summary


@pytest.mark.parametrize("name", CRYO)
def test_expired_entry_stops_suppressing_and_is_reported(
    name: str, gates_data: Path, write_config, tmp_path: Path
) -> None:
    entry = '[{id: GHSA-38f5-ghc2-fcmv, reason: "waiting for upstream", expires: 2026-11-30}]'
    result = audit(config(write_config, allowlist=entry), gates_data / "npm-audit" / name, tmp_path)
    assert result.status is Status.FAIL
    assert "expired allowlist: allowlist[0] (id GHSA-38f5-ghc2-fcmv) (expired 2026-11-30)" in result.summary
    assert result.details["expired_allowlist"][0]["matches"] == 1


def test_axios_transitive_counts_paths_and_threshold(gates_data: Path, write_config, tmp_path: Path) -> None:
    result = audit(config(write_config), gates_data / "npm-audit" / "npm7-high-axios-transitive.json", tmp_path)
    assert result.status is Status.FAIL
    assert result.summary.startswith("4 high: ")
    failing = result.details["failing"]
    assert {f["advisory"] for f in failing} == {
        "GHSA-cph5-m8f7-6c5x",
        "GHSA-4w2v-q235-vp99",
        "GHSA-42xw-2xvc-qx8m",
        "GHSA-74fj-2j2h-c42q",
    }
    by_id = {f["advisory"]: f for f in failing}
    assert by_id["GHSA-74fj-2j2h-c42q"]["paths"] == ["axios>follow-redirects", "github-build>axios>follow-redirects"]
    assert by_id["GHSA-cph5-m8f7-6c5x"]["paths"] == ["axios", "github-build>axios"]
    # The moderate advisory is below fail_on: high: listed as a warning, not a failure.
    [moderate] = result.details["below_threshold"]
    assert moderate["advisory"] == "GHSA-pw2r-vq6v-hr8c" and moderate["severity"] == "moderate"
    assert "1 moderate below high" in result.summary
    packages = {f["package"] for f in failing} | {moderate["package"]}
    assert packages == {"axios", "follow-redirects"}
    paths = {p for f in failing for p in f["paths"]}
    assert {"github-build>axios", "github-build>axios>follow-redirects"} <= paths


def test_path_entry_leaves_the_direct_path_failing(gates_data: Path, write_config, tmp_path: Path) -> None:
    entry = (
        "[{id: GHSA-74fj-2j2h-c42q, path: github-build>axios>follow-redirects,"
        ' reason: "github-build only runs in CI", expires: 2027-01-31}]'
    )
    result = audit(
        config(write_config, allowlist=entry), gates_data / "npm-audit" / "npm7-high-axios-transitive.json", tmp_path
    )
    assert result.status is Status.FAIL
    by_id = {f["advisory"]: f for f in result.details["failing"]}
    assert by_id["GHSA-74fj-2j2h-c42q"]["paths"] == ["axios>follow-redirects"]
    [allowed] = result.details["allowed"]
    assert allowed["paths"] == ["github-build>axios>follow-redirects"]


def test_wildcard_path_entry(gates_data: Path, write_config, tmp_path: Path) -> None:
    entry = '[{path: "*>follow-redirects", reason: "redirects never carry credentials here", expires: 2027-01-31}]'
    result = audit(
        config(write_config, allowlist=entry), gates_data / "npm-audit" / "npm7-high-axios-transitive.json", tmp_path
    )
    failing = {f["advisory"]: f["paths"] for f in result.details["failing"]}
    # One segment before follow-redirects: axios>follow-redirects is accepted, the longer path is not.
    assert failing["GHSA-74fj-2j2h-c42q"] == ["github-build>axios>follow-redirects"]
    assert {p for a in result.details["allowed"] for p in a["paths"]} == {"axios>follow-redirects"}


def test_path_pattern_semantics() -> None:
    assert path_matches("a>*>c", "a>b>c")
    assert not path_matches("a>*>c", "a>c")
    assert path_matches("a>**>c", "a>c") and path_matches("a>**>c", "a>b>x>c")
    assert not path_matches("a>b", "a>b>c")
    assert path_matches("**>c", "x>y>c")


def test_module_entry_matches_every_advisory_of_that_package(gates_data: Path, write_config, tmp_path: Path) -> None:
    entry = '[{module: axios, reason: "replaced next sprint", expires: 2027-01-31}]'
    result = audit(
        config(write_config, allowlist=entry), gates_data / "npm-audit" / "npm7-high-axios-transitive.json", tmp_path
    )
    assert result.status is Status.FAIL  # follow-redirects' high advisory remains
    assert [f["advisory"] for f in result.details["failing"]] == ["GHSA-74fj-2j2h-c42q"]
    assert {a["package"] for a in result.details["allowed"]} == {"axios"}


def test_url_entry(gates_data: Path, write_config, tmp_path: Path) -> None:
    entry = '[{id: "https://github.com/advisories/GHSA-38f5-ghc2-fcmv", reason: "trusted input", expires: 2027-01-31}]'
    result = audit(config(write_config, allowlist=entry), gates_data / "npm-audit" / "npm6-high-cryo.json", tmp_path)
    assert result.status is Status.PASS


def test_stale_entry_warns(gates_data: Path, write_config, tmp_path: Path) -> None:
    entry = (
        "[{id: GHSA-38f5-ghc2-fcmv, reason: trusted, expires: 2027-01-31},"
        " {id: GHSA-xxxx-xxxx-xxxx, reason: fixed long ago, expires: 2027-01-31}]"
    )
    result = audit(config(write_config, allowlist=entry), gates_data / "npm-audit" / "npm7-high-cryo.json", tmp_path)
    assert result.status is Status.WARN
    assert result.details["stale_allowlist"] == [
        {"entry": "allowlist[1] (id GHSA-xxxx-xxxx-xxxx)", "reason": "fixed long ago", "expires": "2027-01-31"}
    ]
    assert "stale allowlist (matches nothing): allowlist[1]" in result.summary


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("[{id: GHSA-38f5-ghc2-fcmv, expires: 2027-01-31}]", 'missing required key "reason"'),
        ("[{id: GHSA-38f5-ghc2-fcmv, reason: trusted}]", 'missing required key "expires"'),
        ("[{id: GHSA-38f5-ghc2-fcmv, reason: trusted, expires: next year}]", "expected a date YYYY-MM-DD"),
        ("[{reason: trusted, expires: 2027-01-31}]", "says nothing to match"),
    ],
)
def test_entry_without_reason_or_expiry_is_a_config_error(
    entry: str, message: str, write_config, tmp_path: Path, gates_data: Path
) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        audit(config(write_config, allowlist=entry), gates_data / "npm-audit" / "npm7-high-cryo.json", tmp_path)
    assert "allowlist" in str(err.value) and "ops.yml" in str(err.value)


def test_clean_report_passes(write_config, tmp_path: Path) -> None:
    clean = tmp_path / "audit.json"
    counts = {"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0, "total": 0}
    clean.write_text(
        json.dumps({"auditReportVersion": 2, "vulnerabilities": {}, "metadata": {"vulnerabilities": counts}})
    )
    result = audit(config(write_config), clean, tmp_path)
    assert (result.status, result.summary) == (Status.PASS, "0 vulnerabilities")


ERROR_DOCUMENTS = {
    "enolock": (
        '{"error": {"code": "ENOLOCK", "summary": "This command requires an existing lockfile.",'
        ' "detail": "Try creating one first with: npm i --package-lock-only"}}',
        "npm audit failed: ENOLOCK: This command requires an existing lockfile.",
    ),
    "endpoint": (
        '{"statusCode": 503, "message": "Service Unavailable"}',
        "the audit endpoint refused the request (HTTP 503): Service Unavailable",
    ),
    "empty": ("", "the file is empty"),
    "truncated": (
        '{"auditReportVersion": 2, "vulnerabilities": {"cryo": {"name": "cryo", "sev',
        "not valid JSON at line 1",
    ),
    "not-a-report": ('{"name": "aikinklab", "version": "1.0.0"}', "not an npm audit report"),
    "counts-contradict": (
        '{"auditReportVersion": 2, "vulnerabilities": {}, "metadata": {"vulnerabilities": {"high": 2, "total": 2}}}',
        "metadata counts 2 high packages but 0 are listed",
    ),
}


@pytest.mark.parametrize("case", sorted(ERROR_DOCUMENTS))
def test_documents_that_are_not_reports_fail_closed(case: str, write_config, tmp_path: Path) -> None:
    text, reason = ERROR_DOCUMENTS[case]
    path = tmp_path / "npm-audit.json"
    path.write_text(text, encoding="utf-8")
    result = audit(config(write_config), path, tmp_path)
    assert result.status is Status.FAIL
    assert reason in result.summary
    assert "0 vulnerabilities" not in result.summary


def test_truncated_real_report_fails(gates_data: Path, write_config, tmp_path: Path) -> None:
    text = (gates_data / "npm-audit" / "npm7-high-axios-transitive.json").read_text()
    path = tmp_path / "npm-audit.json"
    path.write_text(text[: len(text) // 2])
    assert audit(config(write_config), path, tmp_path).status is Status.FAIL


def test_missing_report_is_an_error_naming_the_step(write_config, tmp_path: Path) -> None:
    result = audit(config(write_config), tmp_path / "reports" / "npm-audit.json", tmp_path)
    assert result.status is Status.ERROR
    assert str(tmp_path / "reports" / "npm-audit.json") in result.summary
    assert "npm audit --json > reports/npm-audit.json" in result.summary
