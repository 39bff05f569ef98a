"""Every recorded MDN HTTP Observatory scan is graded to the same score, grade and per-test results.

The cases are the Observatory's own verdicts (v1.6.3, algorithm 5) on exactly these headers and
context, so any difference is a bug in our reconstruction of its rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aikinklab_ops.verify.observatory import TEST_NAMES, ScanContext, case_headers, grade_headers

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "headers" / "observatory-cases.json"
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))


def test_the_copy_matches_the_shared_cases(shared: Path) -> None:
    original = json.loads((shared / "cases" / "headers" / "observatory-cases.json").read_text(encoding="utf-8"))
    assert original == CASES


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_grades_as_the_observatory_did(case: dict[str, Any]) -> None:
    expected = case["observatory"]
    grading = grade_headers(case_headers(case), ScanContext.from_case(case))

    got_tests = {
        t.test: {"result": t.result, "score_modifier": t.score_modifier, "pass": t.passed} for t in grading.tests
    }
    assert got_tests == expected["tests"]
    assert (grading.score, grading.grade) == (expected["score"], expected["grade"])
    assert (grading.tests_passed, grading.tests_failed) == (expected["tests_passed"], expected["tests_failed"])


def test_every_test_is_graded_once_in_the_observatory_order() -> None:
    grading = grade_headers(case_headers(CASES[0]), ScanContext.from_case(CASES[0]))
    assert tuple(t.test for t in grading.tests) == TEST_NAMES
    assert list(CASES[0]["observatory"]["tests"]) == list(TEST_NAMES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_every_result_has_a_reason(case: dict[str, Any]) -> None:
    grading = grade_headers(case_headers(case), ScanContext.from_case(case))
    assert all(t.reason.strip() for t in grading.tests)
