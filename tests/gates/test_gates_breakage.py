"""Inputs an operator threw at the gates while trying to break them: each one once crashed or misjudged."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from gates_support import GATES_DATA

from aikinklab_ops.config import load_config
from aikinklab_ops.gates import GateInputs, run_gates
from aikinklab_ops.report import CheckResult, Status

LHR = GATES_DATA / "lighthouse" / "nextjs-home-lhr.json"


def _run(tmp_path: Path, name: str, **inputs: object) -> CheckResult:
    cfg = load_config(None, env={}, cwd=tmp_path)
    report = run_gates(cfg, GateInputs(cwd=tmp_path, **inputs), only=[name])  # type: ignore[arg-type]
    return report.check(name)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ---------------------------------------------------------------- tests (JUnit)


def test_one_report_with_no_test_run_fails_even_beside_a_passing_one(tmp_path: Path) -> None:
    good = _write(tmp_path, "unit.xml", '<testsuites><testsuite><testcase name="a"/></testsuite></testsuites>')
    skipped = _write(
        tmp_path,
        "e2e.xml",
        '<testsuites><testsuite><testcase name="b"><skipped/></testcase><testcase name="c"><skipped/></testcase>'
        "</testsuite></testsuites>",
    )
    result = _run(tmp_path, "tests", junit=(good, skipped))
    assert result.status is Status.FAIL
    assert "no tests ran" in result.summary and "e2e.xml" in result.summary
    assert "unit.xml" not in result.summary


@pytest.mark.parametrize("attrs", ['tests="-3"', 'tests="5" skipped="9"', 'tests="-1" failures="-1"'])
def test_negative_or_contradictory_suite_counts_are_not_a_pass(tmp_path: Path, attrs: str) -> None:
    report = _write(tmp_path, "junit.xml", f"<testsuite {attrs}/>")
    result = _run(tmp_path, "tests", junit=(report,))
    assert result.status is Status.FAIL
    assert "no tests ran" in result.summary


@pytest.mark.parametrize("value", ["inf", "1e400", "-inf"])
def test_infinite_suite_count_is_an_answer_not_a_crash(tmp_path: Path, value: str) -> None:
    report = _write(tmp_path, "junit.xml", f'<testsuite tests="{value}"/>')
    result = _run(tmp_path, "tests", junit=(report,))
    assert result.status is Status.FAIL


# ---------------------------------------------------------------- security-audit


def test_metadata_that_is_not_a_mapping_fails_closed(tmp_path: Path) -> None:
    doc = {"auditReportVersion": 2, "vulnerabilities": {}, "metadata": ["x"]}
    path = _write(tmp_path, "audit.json", json.dumps(doc))
    result = _run(tmp_path, "security-audit", audit_reports=(path,))
    assert result.status is Status.FAIL
    assert "metadata" in result.summary


def test_endpoint_refusal_in_boom_shape_keeps_status_and_message(tmp_path: Path) -> None:
    doc = {"statusCode": 503, "error": "Service Unavailable", "message": "audit endpoint is down"}
    path = _write(tmp_path, "audit.json", json.dumps(doc))
    result = _run(tmp_path, "security-audit", audit_reports=(path,))
    assert result.status is Status.FAIL
    assert "503" in result.summary and "audit endpoint is down" in result.summary


# ---------------------------------------------------------------- performance


def test_lighthouse_categories_that_are_not_a_mapping_fail_not_crash(tmp_path: Path) -> None:
    data = json.loads(LHR.read_text(encoding="utf-8"))
    data["categories"] = ["performance"]
    path = _write(tmp_path, "lhr.json", json.dumps(data))
    cfg_path = _write(
        tmp_path, "ops.yml", 'gates:\n  performance:\n    budgets:\n      "categories:performance": {minScore: 0.9}\n'
    )
    cfg = load_config(cfg_path, env={}, cwd=tmp_path)
    result = run_gates(cfg, GateInputs(cwd=tmp_path, lighthouse=(path,)), only=["performance"]).check("performance")
    assert result.status is Status.FAIL
    assert "did not run" in result.summary


# ---------------------------------------------------------------- monitoring


def _monitoring_file(tmp_path: Path, alerts: str) -> Path:
    return _write(
        tmp_path,
        "monitoring.yml",
        "monitor: {interval_s: 30}\nverify: {health: {path: /api/health}}\nalerts:\n" + textwrap.indent(alerts, "  "),
    )


def test_dashboard_needs_no_channel_settings_in_a_monitoring_file(tmp_path: Path) -> None:
    path = _monitoring_file(
        tmp_path,
        "routes: {high: [email, sms], medium: [email], low: [dashboard]}\n"
        "channels:\n"
        "  email: {smtp_host: smtp.example.com, recipients: [oncall@example.com]}\n"
        "  sms: {webhook_url: '${SMS_WEBHOOK_URL}'}\n",
    )
    result = _run(tmp_path, "monitoring", monitoring=path)
    assert result.status is Status.PASS, result.summary


@pytest.mark.parametrize(
    ("alerts", "expected"),
    [
        (
            "routes: {high: [email, sms, {pager: 1}], medium: [email], low: [dashboard]}\n"
            "channels: {email: {smtp_host: h, recipients: [a@b.c]}, sms: {webhook_url: x}}\n",
            "alerts.routes.high",
        ),
        (
            "routes: {high: [email, sms], medium: [email], low: [dashboard]}\n"
            "channels: {email: {smtp_host: h, recipients: 5}, sms: {webhook_url: x}}\n",
            "alerts.channels.email.recipients",
        ),
        (
            "routes: {high: [email, sms], medium: [email], low: [dashboard]}\n"
            "channels: {email: {smtp_host: h, recipients: a@b.c}, sms: {webhook_url: x}}\n",
            "alerts.channels.email.recipients",
        ),
    ],
)
def test_malformed_monitoring_file_names_the_field(tmp_path: Path, alerts: str, expected: str) -> None:
    result = _run(tmp_path, "monitoring", monitoring=_monitoring_file(tmp_path, alerts))
    assert result.status is Status.FAIL
    assert expected in result.summary


# ---------------------------------------------------------------- feature flags


def test_impossible_date_in_flags_file_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    flags = _write(
        tmp_path,
        "flags.yml",
        """\
        flags:
          new-pricing-page:
            description: the redesigned /pricing page
            owner: "@aikinklab/web"
            default: false
            environments: {production: false, staging: true, preview: true}
            remove_by: 2027-13-01
        """,
    )
    result = _run(tmp_path, "feature-flags", flags=flags)
    assert result.status in (Status.FAIL, Status.ERROR)
    assert str(flags) in result.summary
    assert "month must be in 1..12" in result.summary


# ---------------------------------------------------------------- migrations


def test_missing_migrations_cwd_is_named_not_reported_as_a_missing_command(tmp_path: Path) -> None:
    cfg_path = _write(
        tmp_path,
        "ops.yml",
        "gates:\n  migrations:\n    applicable: true\n    cwd: no-such-folder\n    command: [sh, -c, 'true']\n",
    )
    cfg = load_config(cfg_path, env={}, cwd=tmp_path)
    result = run_gates(cfg, GateInputs(cwd=tmp_path), only=["migrations"]).check("migrations")
    assert result.status is Status.ERROR
    assert "no-such-folder" in result.summary
    assert "not found: sh" not in result.summary


def test_flags_json_indented_with_tabs_is_read(tmp_path: Path) -> None:
    # JSON.stringify(flags, null, "\t") is valid JSON; YAML refuses the tabs.
    doc = {
        "flags": {
            "new-pricing-page": {
                "description": "the redesigned /pricing page",
                "owner": "@aikinklab/web",
                "default": False,
                "environments": {"production": False, "staging": True, "preview": True},
            }
        }
    }
    path = tmp_path / "feature-flags.json"
    path.write_text(json.dumps(doc, indent="\t"), encoding="utf-8")
    assert "\t" in path.read_text(encoding="utf-8")
    result = _run(tmp_path, "feature-flags", flags=path)
    assert result.status is Status.PASS, result.summary


def test_unknown_severity_names_the_file_once(tmp_path: Path) -> None:
    via = {"source": 1, "name": "a", "title": "t", "url": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"}
    vuln = {"name": "a", "severity": "high", "isDirect": True, "effects": [], "via": [{**via, "severity": "urgent"}]}
    path = _write(tmp_path, "audit.json", json.dumps({"auditReportVersion": 2, "vulnerabilities": {"a": vuln}}))
    result = _run(tmp_path, "security-audit", audit_reports=(path,))
    assert result.status is Status.FAIL
    assert result.summary.count(str(path)) == 1, result.summary
    assert "unknown severity 'urgent'" in result.summary
