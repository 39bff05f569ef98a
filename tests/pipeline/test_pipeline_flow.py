"""The rules that protect production, with fake steps that record what the pipeline asked for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aikinklab_ops.errors import ExternalError, UsageError
from aikinklab_ops.pipeline import Deployed, RolledBack, run_pipeline
from aikinklab_ops.report import CheckResult, Report, Status


def report(kind: str, *statuses: Status) -> Report:
    return Report(kind=kind, checks=tuple(CheckResult(f"{kind}-{i}", s, s.value) for i, s in enumerate(statuses)))


@dataclass
class FakeSteps:
    gate_status: Status = Status.PASS
    verify_results: list[Status] = field(default_factory=lambda: [Status.PASS])
    deploy_error: Exception | None = None
    rollback_error: Exception | None = None
    calls: list[str] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    open_incident: bool = False

    def gate(self) -> Report:
        self.calls.append("gate")
        return report("gate", Status.PASS, self.gate_status)

    def deploy(self) -> Deployed:
        self.calls.append("deploy")
        if self.deploy_error:
            raise self.deploy_error
        return Deployed("dpl_new", "https://new.example", "https://www.example", "production")

    def verify(self, url: str) -> Report:
        self.calls.append(f"verify {url}")
        return report("verify", self.verify_results.pop(0))

    def rollback(self, failed: Deployed) -> RolledBack:
        self.calls.append(f"rollback {failed.deployment_id}")
        if self.rollback_error:
            raise self.rollback_error
        return RolledBack("dpl_new", "dpl_old", "rolled back from dpl_new to dpl_old")

    def resolve(self, *, key: str, resolution: str) -> CheckResult | None:
        self.calls.append(f"resolve {key}")
        if not self.open_incident:
            return None
        return CheckResult("incident", Status.PASS, f"resolved {key}: {resolution}")

    def incident(self, *, key: str, severity: str, title: str, impact: str, details: Mapping[str, Any]) -> CheckResult:
        self.calls.append(f"incident {severity}")
        self.incidents.append({"key": key, "severity": severity, "title": title, "impact": impact})
        return CheckResult("incident", Status.PASS, f"{severity} opened")


def names(rep: Report) -> list[tuple[str, str]]:
    return [(c.name, c.status.value) for c in rep.checks]


def test_good_release_deploys_and_verifies_the_environment_url() -> None:
    steps = FakeSteps()
    out = run_pipeline(steps, environment="production", protected=True)
    assert out.exit_code == 0 and out.report.ok
    assert steps.calls == ["gate", "deploy", "verify https://www.example", "resolve deploy-production"]
    assert out.report.outputs["deployment-id"] == "dpl_new"
    assert [c.name for c in out.report.checks] == ["gate", "deploy", "verify"]  # nothing was open


def test_a_good_release_resolves_the_open_deploy_incident() -> None:
    steps = FakeSteps(open_incident=True)
    out = run_pipeline(steps, environment="production", protected=True)
    assert out.report.check("incident").summary.startswith("resolved deploy-production: release dpl_new")


def test_a_failed_gate_never_deploys() -> None:
    steps = FakeSteps(gate_status=Status.FAIL)
    out = run_pipeline(steps, environment="production", protected=True)
    assert out.exit_code == 1
    assert steps.calls == ["gate"]
    assert names(out.report) == [("gate", "fail"), ("deploy", "skip")]


def test_dry_run_stops_after_the_gates_and_says_what_it_would_do() -> None:
    steps = FakeSteps()
    out = run_pipeline(steps, environment="production", protected=True, dry_run=True, plan="site/ to production")
    assert steps.calls == ["gate"]
    assert out.report.check("deploy").summary == "dry run: would deploy site/ to production"
    assert out.exit_code == 0


def test_failed_production_verification_rolls_back_verifies_again_and_opens_p1() -> None:
    steps = FakeSteps(verify_results=[Status.FAIL, Status.PASS])
    out = run_pipeline(steps, environment="production", protected=True)
    assert steps.calls == [
        "gate",
        "deploy",
        "verify https://www.example",
        "rollback dpl_new",
        "verify https://www.example",
        "incident P1",
    ]
    assert out.exit_code == 1  # the release was bad, even though production recovered
    assert names(out.report)[-3:] == [("rollback", "pass"), ("verify-after-rollback", "pass"), ("incident", "pass")]
    assert steps.incidents[0]["key"] == "deploy-production"
    assert out.report.outputs["incident-key"] == "deploy-production"
    assert "rolled back" in steps.incidents[0]["title"]
    assert out.report.outputs["rolled-back-to"] == "dpl_old"


def test_rollback_that_does_not_fix_it_is_p0() -> None:
    steps = FakeSteps(verify_results=[Status.FAIL, Status.FAIL])
    out = run_pipeline(steps, environment="production", protected=True)
    assert steps.incidents[0]["severity"] == "P0"
    assert out.report.outputs["severity"] == "P0"


def test_failed_rollback_is_p0_and_an_outside_failure_exits_3() -> None:
    steps = FakeSteps(verify_results=[Status.FAIL], rollback_error=ExternalError("vercel: 503 after retries"))
    out = run_pipeline(steps, environment="production", protected=True)
    assert out.report.check("rollback").status is Status.ERROR
    assert steps.incidents[0]["severity"] == "P0"
    assert out.exit_code == 3


def test_staging_failure_never_touches_production() -> None:
    steps = FakeSteps(verify_results=[Status.FAIL])
    out = run_pipeline(steps, environment="staging", protected=False)
    assert steps.calls == ["gate", "deploy", "verify https://www.example"]
    assert out.report.check("rollback").status is Status.SKIP
    assert out.exit_code == 1
    assert steps.incidents == []


def test_bad_input_keeps_exit_2() -> None:
    steps = FakeSteps(deploy_error=UsageError("VERCEL_TOKEN is not set"))
    out = run_pipeline(steps, environment="production", protected=True)
    assert out.exit_code == 2
    assert out.report.check("deploy").status is Status.ERROR


def test_deploy_failure_stops_before_verification() -> None:
    steps = FakeSteps(deploy_error=ExternalError("vercel: build ERROR"))
    out = run_pipeline(steps, environment="production", protected=True)
    assert steps.calls == ["gate", "deploy"]
    assert out.exit_code == 3
    assert out.report.check("deploy").status is Status.ERROR
