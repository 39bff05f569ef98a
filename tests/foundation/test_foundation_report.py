"""The Report model and its three renderings."""

from __future__ import annotations

import json

import pytest

from aikinklab_ops.errors import InputError
from aikinklab_ops.report import CheckResult, Report, Status, run_check
from aikinklab_ops.report.formats import render, render_annotations, render_json, render_markdown


def report(*checks: CheckResult) -> Report:
    return Report(kind="verify", checks=checks, target="https://example.test")


def test_empty_report_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one check"):
        Report(kind="gate", checks=())


@pytest.mark.parametrize(
    ("statuses", "ok"),
    [
        ((Status.PASS,), True),
        ((Status.PASS, Status.WARN, Status.SKIP), True),
        ((Status.PASS, Status.FAIL), False),
        ((Status.ERROR,), False),
    ],
)
def test_ok_is_false_iff_a_check_fails_or_errors(statuses: tuple[Status, ...], ok: bool) -> None:
    r = report(*(CheckResult(f"c{i}", s, "x") for i, s in enumerate(statuses)))
    assert r.ok is ok
    assert json.loads(render_json(r))["ok"] is ok


def test_json_has_exactly_the_contract_keys() -> None:
    r = report(CheckResult("health", Status.PASS, "200 ok", {"code": 200}, 0.1234, label="Health"))
    doc = json.loads(render_json(r))
    assert set(doc) == {"kind", "ok", "target", "started_at", "duration_s", "checks"}
    assert doc["checks"] == [
        {"name": "health", "status": "pass", "summary": "200 ok", "details": {"code": 200}, "duration_s": 0.123}
    ]


def test_run_check_turns_an_ops_error_into_an_error_result() -> None:
    def broken() -> CheckResult:
        raise InputError("reports/junit.xml: no such file")

    result = run_check("tests", broken)
    assert result.status is Status.ERROR
    assert "reports/junit.xml" in result.summary


def test_text_shows_details_only_for_problems() -> None:
    r = report(
        CheckResult("health", Status.PASS, "ok", {"secret_detail": 1}),
        CheckResult("tls", Status.FAIL, "expired", {"days_left": -3}),
    )
    text = render(r, "text")
    assert "days_left: -3" in text
    assert "secret_detail" not in text
    assert "FAILED" in text


def test_markdown_checklist_and_escaping() -> None:
    r = report(
        CheckResult("tests", Status.PASS, "12 passed", label="All tests passing"),
        CheckResult("security-audit", Status.FAIL, "2 high | cryo", label="Security audit clean"),
    )
    md = render_markdown(r)
    assert "- [x] All tests passing" in md
    assert "- [ ] Security audit clean — 2 high \\| cryo" in md
    assert "| ❌ | `security-audit` |" in md


def test_annotations_escape_newlines_and_pick_levels() -> None:
    r = report(
        CheckResult("a", Status.WARN, "line1\nline2 100%"),
        CheckResult("b", Status.ERROR, "boom"),
        CheckResult("c", Status.PASS, "fine"),
    )
    lines = render_annotations(r).splitlines()
    assert lines == [
        "::warning title=verify%3A a::line1%0Aline2 100%25",
        "::error title=verify%3A b::boom",
    ]
