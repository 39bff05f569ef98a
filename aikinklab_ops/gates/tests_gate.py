"""Gate ``tests``: every test that ran passed, on GitHub and in the JUnit reports.

Two sources of evidence, used together when both are there: the commit's check runs and statuses
(which include the test jobs of other workflows), and the JUnit XML the local test step wrote.
Neither source alone may be empty: a report with no tests, or a commit with no checks, proves
nothing and fails.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aikinklab_ops.errors import InputError
from aikinklab_ops.gates.base import CommitCheck, GateContext, require_file
from aikinklab_ops.gates.safexml import parse_xml_file
from aikinklab_ops.report import CheckResult, Status
from aikinklab_ops.report.model import worst

NAME = "tests"
LABEL = "All tests passing"
JUNIT_PRODUCER = (
    "the test step, e.g. `pytest --junitxml=reports/junit.xml`, jest with the jest-junit reporter "
    "(JEST_JUNIT_OUTPUT_DIR=reports) or `vitest run --reporter=junit --outputFile=reports/junit.xml`"
)
_MAX_NAMED = 10


# ---------------------------------------------------------------- JUnit


@dataclass(frozen=True)
class JUnitSummary:
    file: str
    tests: int
    failures: int
    errors: int
    skipped: int
    failed: tuple[str, ...]  # "suite › case: message" for each failure or error

    @property
    def ran(self) -> int:
        return self.tests - self.skipped


def _int(value: str | None) -> int:
    """A suite attribute as a count: negative, infinite or unparsable values count as 0, never as a pass."""
    try:
        return max(0, int(float(value))) if value else 0
    except (ValueError, OverflowError):
        return 0


def summarize_junit(root: Any, name: str) -> JUnitSummary:
    """Count from the <testcase> elements; fall back to the suite attributes when a tool wrote none.

    pytest, jest-junit and vitest all write <testsuites><testsuite><testcase>, pytest sometimes a
    bare <testsuite>; a case fails with a <failure> or <error> child and is skipped with <skipped>.
    """
    if root.tag not in ("testsuites", "testsuite"):
        raise InputError(
            f"{name}: not a JUnit report (the root element is <{root.tag}>, expected <testsuites> or <testsuite>)",
            hint="point gates.tests.junit (or --junit) at the XML the test runner wrote",
        )
    cases = list(root.iter("testcase"))
    failed: list[str] = []
    failures = errors = skipped = 0
    for case in cases:
        label = " › ".join(x for x in (case.get("classname"), case.get("name")) if x) or "(unnamed test)"
        problem = case.find("failure")
        kind = "failed"
        if problem is None:
            problem = case.find("error")
            kind = "error"
        if problem is not None:
            if kind == "failed":
                failures += 1
            else:
                errors += 1
            text = problem.get("message") or next(iter((problem.text or "").strip().splitlines()), "")
            failed.append(f"{label} ({kind}{': ' + text[:200] if text else ''})")
        elif case.find("skipped") is not None:
            skipped += 1
    if cases:
        return JUnitSummary(name, len(cases), failures, errors, skipped, tuple(failed))
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite")) or [root]
    return JUnitSummary(
        name,
        sum(_int(s.get("tests")) for s in suites),
        sum(_int(s.get("failures")) for s in suites),
        sum(_int(s.get("errors")) for s in suites),
        sum(_int(s.get("skipped")) for s in suites),
        (),
    )


def expand_junit_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given; a folder means its *.xml; a glob must match at least one file."""
    out: list[Path] = []
    for path in paths:
        text = str(path)
        if any(ch in text for ch in "*?["):
            found = sorted(Path(p) for p in glob.glob(text, recursive=True))
            if not found:
                raise InputError(
                    f"{text}: no JUnit report matches", hint=f"they are usually written by {JUNIT_PRODUCER}"
                )
            out.extend(found)
        elif path.is_dir():
            found = sorted(path.glob("*.xml"))
            if not found:
                raise InputError(
                    f"{path}: folder has no *.xml JUnit report", hint=f"they are usually written by {JUNIT_PRODUCER}"
                )
            out.extend(found)
        else:
            out.append(require_file(path, "JUnit report", JUNIT_PRODUCER))
    return out


def check_junit(paths: Sequence[Path]) -> tuple[Status, str, dict[str, Any]]:
    summaries = [summarize_junit(parse_xml_file(p), str(p)) for p in expand_junit_paths(paths)]
    tests = sum(s.tests for s in summaries)
    ran = sum(s.ran for s in summaries)
    failing = sum(s.failures + s.errors for s in summaries)
    skipped = sum(s.skipped for s in summaries)
    details: dict[str, Any] = {
        "junit": [
            {"file": s.file, "tests": s.tests, "failures": s.failures, "errors": s.errors, "skipped": s.skipped}
            for s in summaries
        ]
    }
    names = [f for s in summaries for f in s.failed]
    if names:
        details["failed_tests"] = names
    if failing:
        shown = "; ".join(names[:_MAX_NAMED]) + (
            f"; … {len(names) - _MAX_NAMED} more" if len(names) > _MAX_NAMED else ""
        )
        return Status.FAIL, f"{failing} of {tests} tests failed" + (f": {shown}" if shown else ""), details
    # Each report must show a test that ran: an all-skipped e2e report beside a passing unit
    # report means the e2e suite did not run, which the sum over both would hide.
    idle = [s for s in summaries if s.ran <= 0]
    if idle:
        idle_skipped = sum(s.skipped for s in idle)
        extra = f" ({idle_skipped} skipped)" if idle_skipped else ""
        files = ", ".join(s.file for s in idle)
        return Status.FAIL, f"no tests ran{extra} in {files}", details
    tail = f", {skipped} skipped" if skipped else ""
    return Status.PASS, f"{ran} tests passed{tail}", details


# ---------------------------------------------------------------- GitHub


def evaluate_commit_checks(
    checks: Sequence[CommitCheck], required: Sequence[str], exclude: Sequence[str]
) -> tuple[list[CommitCheck], list[CommitCheck], list[CommitCheck], list[str]]:
    """Split into (considered, pending, failed) and name the required checks that never reported."""
    excluded = set(exclude)
    considered = [c for c in checks if c.name not in excluded]
    pending = [c for c in considered if c.state == "pending"]
    failed = [c for c in considered if c.state == "failure"]
    present = {c.name for c in considered}
    missing = [r for r in required if r not in present]
    return considered, pending, failed, missing


def _describe(c: CommitCheck) -> str:
    return f"{c.name} ({c.conclusion})"


def check_github(ctx: GateContext, sha: str) -> tuple[Status, str, dict[str, Any]]:
    assert ctx.github is not None
    gh = ctx.settings.github
    exclude = [*gh.exclude, *([ctx.inputs.own_job] if ctx.inputs.own_job else [])]
    deadline = ctx.clock() + gh.wait_timeout_s
    polls = 0
    while True:
        polls += 1
        checks = ctx.github.commit_checks(sha)
        considered, pending, failed, missing = evaluate_commit_checks(checks, gh.required, exclude)
        waiting = bool(pending or missing) and not failed
        if not waiting or ctx.clock() >= deadline:
            break
        names = ", ".join([c.name for c in pending] + missing)
        ctx.log(f"tests: waiting for {names} on {sha[:12]}")
        ctx.sleep(min(gh.poll_interval_s, max(0.0, deadline - ctx.clock())))
    details: dict[str, Any] = {
        "sha": sha,
        "checks": [{"name": c.name, "kind": c.kind, "result": c.conclusion, "url": c.url} for c in considered],
        "excluded": exclude,
        "polls": polls,
    }
    if failed:
        return Status.FAIL, "failed on GitHub: " + ", ".join(_describe(c) for c in failed), details
    if pending or missing:
        parts = []
        if pending:
            parts.append("still pending after " + f"{gh.wait_timeout_s:g}s: " + ", ".join(c.name for c in pending))
        if missing:
            parts.append("required but never reported: " + ", ".join(missing))
        return Status.FAIL, "; ".join(parts), details
    if not considered:
        return Status.FAIL, f"no check runs or statuses on {sha[:12]} besides this job", details
    return Status.PASS, f"{len(considered)} checks succeeded on {sha[:12]}", details


# ---------------------------------------------------------------- the gate


def run(ctx: GateContext) -> CheckResult:
    parts: list[tuple[str, Status, str, dict[str, Any]]] = []
    sha = ctx.inputs.sha
    gh = ctx.settings.github
    if gh.enabled and ctx.github is not None and sha:
        parts.append(("github", *check_github(ctx, sha)))
    if ctx.settings.junit:
        parts.append(("junit", *check_junit(ctx.settings.junit)))
    if not parts:
        why = []
        if not ctx.settings.junit:
            why.append("no JUnit reports configured (gates.tests.junit, --junit)")
        if not gh.enabled:
            why.append("GitHub checks disabled")
        elif ctx.github is None:
            why.append("no GitHub access (GITHUB_TOKEN and GITHUB_REPOSITORY)")
        elif not sha:
            why.append("no commit SHA (--sha or GITHUB_SHA)")
        return CheckResult(NAME, Status.ERROR, "nothing to check: " + "; ".join(why), {"reason": why}, label=LABEL)
    status = worst(p[1] for p in parts)
    if len(parts) == 1:
        _, st, summary, details = parts[0]
        return CheckResult(NAME, st, summary, details, label=LABEL)
    summary = "; ".join(f"{src}: {text}" for src, _st, text, _d in parts)
    details = {src: d for src, _st, _t, d in parts}
    return CheckResult(NAME, status, summary, details, label=LABEL)
