"""The tests gate on JUnit XML: real pytest reports, jest-junit and vitest shapes, broken and hostile files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aikinklab_ops.config import load_config
from aikinklab_ops.gates import GateInputs, run_gates
from aikinklab_ops.report import CheckResult, Status

SAMPLES = {
    "passing": "def test_adds():\n    assert 1 + 1 == 2\n\ndef test_joins():\n    assert 'a' + 'b' == 'ab'\n",
    "failing": (
        "import pytest\n\ndef test_ok():\n    assert True\n\n"
        "def test_checkout_total():\n    assert 2 + 2 == 5, 'total is wrong'\n\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError('db down')\n\n"
        "def test_uses_broken(broken):\n    pass\n\n"
        "@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n"
    ),
    "empty": "# no tests here\n",
}


@pytest.fixture(scope="module")
def pytest_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real JUnit XML, written by pytest itself on tiny sample suites."""
    out = {}
    for name, code in SAMPLES.items():
        folder = tmp_path_factory.mktemp(f"suite-{name}")
        (folder / f"test_sample_{name}.py").write_text(code)
        report = folder / "junit.xml"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder),
             f"--junitxml={report}", str(folder)],
            cwd=folder, capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        assert report.is_file(), f"pytest did not write {report}"
        out[name] = report
    return out


def gate(tmp_path: Path, *reports: Path) -> CheckResult:
    cfg = load_config(None, env={}, cwd=tmp_path)
    report = run_gates(cfg, GateInputs(cwd=tmp_path, junit=reports), only=["tests"])
    return report.check("tests")


def test_passing_pytest_report_passes(pytest_reports: dict[str, Path], tmp_path: Path) -> None:
    result = gate(tmp_path, pytest_reports["passing"])
    assert (result.status, result.summary) == (Status.PASS, "2 tests passed")
    assert result.label == "All tests passing"


def test_failing_pytest_report_names_failures_and_errors(pytest_reports: dict[str, Path], tmp_path: Path) -> None:
    result = gate(tmp_path, pytest_reports["failing"])
    assert result.status is Status.FAIL
    assert result.summary.startswith("2 of 4 tests failed: ")
    assert "test_sample_failing › test_checkout_total (failed: AssertionError: total is wrong" in result.summary
    assert "test_sample_failing › test_uses_broken (error" in result.summary
    [counts] = result.details["junit"]
    assert (counts["failures"], counts["errors"], counts["skipped"]) == (1, 1, 1)


def test_zero_tests_fails(pytest_reports: dict[str, Path], tmp_path: Path) -> None:
    result = gate(tmp_path, pytest_reports["empty"])
    assert result.status is Status.FAIL
    assert result.summary.startswith("no tests ran")


def test_several_reports_add_up(pytest_reports: dict[str, Path], tmp_path: Path) -> None:
    result = gate(tmp_path, pytest_reports["passing"], pytest_reports["passing"])
    assert (result.status, result.summary) == (Status.PASS, "4 tests passed")


def test_an_empty_report_beside_a_passing_one_fails(pytest_reports: dict[str, Path], tmp_path: Path) -> None:
    # docs/gates.md: "a report in which no test ran (zero tests, or all skipped) fails".
    result = gate(tmp_path, pytest_reports["passing"], pytest_reports["empty"])
    assert result.status is Status.FAIL
    assert result.summary == f"no tests ran in {pytest_reports['empty']}"


JEST_JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="3" failures="1" errors="0" time="1.2">
  <testsuite name="PricingTable" errors="0" failures="1" skipped="1" time="1.1" tests="3">
    <testcase classname="PricingTable renders" name="PricingTable renders" time="0.01"></testcase>
    <testcase classname="PricingTable annual" name="PricingTable annual" time="0.02">
      <failure>Error: expect(received).toBe(expected)

Expected: 120
Received: 100</failure>
    </testcase>
    <testcase classname="PricingTable later" name="PricingTable later" time="0"><skipped/></testcase>
  </testsuite>
</testsuites>
"""

VITEST = """<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="2" failures="0" errors="0" time="0.52">
    <testsuite name="src/lib/price.test.ts" hostname="ci" tests="2" failures="0" errors="0" skipped="0" time="0.01">
        <testcase classname="src/lib/price.test.ts" name="formats euros" time="0.002">
        </testcase>
        <testcase classname="src/lib/price.test.ts" name="rounds cents" time="0.001">
        </testcase>
    </testsuite>
</testsuites>
"""


def test_jest_junit_shape(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JEST_JUNIT)
    result = gate(tmp_path, path)
    assert result.status is Status.FAIL
    assert result.summary == (
        "1 of 3 tests failed: PricingTable annual › PricingTable annual"
        " (failed: Error: expect(received).toBe(expected))"
    )


def test_vitest_shape_and_folder_input(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "vitest.xml").write_text(VITEST)
    result = gate(tmp_path, folder)
    assert (result.status, result.summary) == (Status.PASS, "2 tests passed")


def test_suite_attributes_count_when_no_testcases(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text('<testsuite name="x" tests="4" failures="1" errors="0" skipped="0"></testsuite>')
    result = gate(tmp_path, path)
    assert (result.status, result.summary) == (Status.FAIL, "1 of 4 tests failed")


def test_malformed_xml_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text('<?xml version="1.0"?>\n<testsuites>\n  <testsuite name="a" tests="1">\n    <testcase name="x">\n')
    result = gate(tmp_path, path)
    assert result.status is Status.ERROR
    assert result.summary.startswith(f"{path}:5: not well-formed XML")


def test_dtd_and_entities_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(
        textwrap.dedent("""\
        <?xml version="1.0"?>
        <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
        <testsuites><testsuite tests="1"><testcase name="&lol2;"/></testsuite></testsuites>
        """)
    )
    result = gate(tmp_path, path)
    assert result.status is Status.ERROR
    assert f"{path}:2: refusing a DOCTYPE declaration" in result.summary


def test_not_a_junit_report(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text("<coverage line-rate='0.9'/>")
    result = gate(tmp_path, path)
    assert result.status is Status.ERROR
    assert "not a JUnit report (the root element is <coverage>" in result.summary


def test_missing_report_names_the_path_and_the_step(tmp_path: Path) -> None:
    result = gate(tmp_path, Path("reports/junit.xml"))
    assert result.status is Status.ERROR
    assert f"{tmp_path / 'reports' / 'junit.xml'}: no such file" in result.summary
    assert "--junitxml=reports/junit.xml" in result.summary


def test_default_config_reads_reports_junit_xml(pytest_reports: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "junit.xml").write_bytes(pytest_reports["passing"].read_bytes())
    cfg = load_config(None, env={}, cwd=tmp_path)
    result = run_gates(cfg, GateInputs(cwd=tmp_path), only=["tests"]).check("tests")
    assert result.status is Status.PASS


def test_no_evidence_at_all_is_not_a_pass(tmp_path: Path) -> None:
    result = gate(tmp_path)  # --junit given as an empty list, no GitHub access
    assert result.status is Status.ERROR
    assert result.summary.startswith("nothing to check: no JUnit reports configured")
