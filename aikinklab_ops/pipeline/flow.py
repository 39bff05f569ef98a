"""The pipeline's decisions, apart from the parts that do the work.

``run_pipeline`` only sequences and judges; every step that touches the world comes in through
``Steps``, so the rules that protect production (never deploy past a failed gate; roll back a
production deploy that fails verification, verify again, open the incident; leave production
alone when staging or a preview fails) are tested with plain fakes, and the CLI wires the real
gate, Vercel, verification and incident code in ``wiring.py``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Protocol

from aikinklab_ops.errors import CheckFailed, OpsError
from aikinklab_ops.report import CheckResult, Report, Status
from aikinklab_ops.report.model import worst


@dataclass(frozen=True)
class Deployed:
    deployment_id: str
    url: str
    # What verification checks: the environment's address (the production domain), which is what
    # users reach, or the deployment's own URL where the environment has none (previews).
    verify_url: str
    environment: str
    summary: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RolledBack:
    from_deployment: str | None
    to_deployment: str
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


class Steps(Protocol):
    def gate(self) -> Report: ...
    def deploy(self) -> Deployed: ...
    def verify(self, url: str) -> Report: ...
    def rollback(self, failed: Deployed) -> RolledBack: ...
    def incident(
        self, *, key: str, severity: str, title: str, impact: str, details: Mapping[str, Any]
    ) -> CheckResult: ...
    def resolve(self, *, key: str, resolution: str) -> CheckResult | None: ...


@dataclass(frozen=True)
class PipelineOutcome:
    report: Report
    # 3 when an outside service failed (DESIGN.md exit codes); otherwise the report decides.
    exit_code: int


def incident_key(environment: str) -> str:
    """One deploy incident per environment: a rerun of a failing release updates it, and the next
    release that passes verification resolves it."""
    return f"deploy-{environment}"


def _step(name: str, report: Report) -> CheckResult:
    failing = [c for c in report.checks if c.status.failing]
    warned = [c.name for c in report.checks if c.status is Status.WARN]
    counts = f"{len(report.checks)} checks"
    if failing:
        summary = f"{counts}; failed: " + "; ".join(f"{c.name}: {c.summary}" for c in failing)
    elif warned:
        summary = f"{counts} passed; warnings: {', '.join(warned)}"
    else:
        summary = f"{counts} passed"
    return CheckResult(
        name,
        worst(c.status for c in report.checks),
        summary,
        {
            "target": report.target,
            "failed": {c.name: c.summary for c in failing},
            "checks": [c.to_dict() for c in report.checks],
        },
        report.duration_s,
    )


def _error(name: str, err: OpsError, t0: float) -> CheckResult:
    status = Status.FAIL if isinstance(err, CheckFailed) else Status.ERROR
    return CheckResult(
        name,
        status,
        str(err).splitlines()[0],
        {"error": type(err).__name__, "message": str(err)},
        time.monotonic() - t0,
    )


def _timed(t0: float, result: CheckResult) -> CheckResult:
    return replace(result, duration_s=time.monotonic() - t0)


def run_pipeline(
    steps: Steps, *, environment: str, protected: bool, dry_run: bool = False, plan: str = ""
) -> PipelineOutcome:
    started, t_start = datetime.now(timezone.utc), time.monotonic()
    checks: list[CheckResult] = []
    outputs: dict[str, str] = {"environment": environment}
    # A failure that is not a check's verdict keeps its own exit code: 2 for bad input (a missing
    # token, a path that is not there), 3 for an outside service, as the single commands exit.
    error_exit = 0

    def note_error(err: OpsError) -> None:
        nonlocal error_exit
        if not isinstance(err, CheckFailed):
            error_exit = max(error_exit, err.exit_code)

    def finish() -> PipelineOutcome:
        report = Report(
            kind="pipeline",
            checks=tuple(checks),
            target=environment,
            started_at=started,
            duration_s=time.monotonic() - t_start,
            outputs=outputs,
        )
        return PipelineOutcome(report, 0 if report.ok else (error_exit or 1))

    gate = steps.gate()
    checks.append(_step("gate", gate))
    if not gate.ok:
        checks.append(CheckResult("deploy", Status.SKIP, "not deployed: a pre-deploy gate failed"))
        return finish()
    if dry_run:
        checks.append(CheckResult("deploy", Status.SKIP, f"dry run: would deploy {plan}".strip(), {"plan": plan}))
        return finish()

    t0 = time.monotonic()
    try:
        deployed = steps.deploy()
    except OpsError as err:
        note_error(err)
        checks.append(_error("deploy", err, t0))
        return finish()
    outputs.update(deployed.outputs)
    outputs.update({"deployment-id": deployed.deployment_id, "url": deployed.url})
    checks.append(
        CheckResult(
            "deploy",
            Status.PASS,
            deployed.summary or f"deployed {deployed.deployment_id}",
            dict(deployed.details),
            time.monotonic() - t0,
        )
    )

    verification = steps.verify(deployed.verify_url)
    checks.append(_step("verify", verification))
    key = incident_key(environment)
    if verification.ok:
        if protected:
            t0 = time.monotonic()
            try:
                resolved = steps.resolve(
                    key=key, resolution=f"release {deployment_label(deployed)} passed verification"
                )
            except OpsError as err:
                resolved = _error("incident", err, t0)
            if resolved is not None:
                checks.append(_timed(t0, resolved))
        return finish()
    if not protected:
        checks.append(
            CheckResult("rollback", Status.SKIP, f"{environment} is not protected: production was not touched")
        )
        return finish()

    failed = [c.name for c in verification.checks if c.status.failing]
    t0 = time.monotonic()
    try:
        rolled = steps.rollback(deployed)
    except OpsError as err:
        note_error(err)
        checks.append(_error("rollback", err, t0))
        severity, title = "P0", f"{environment} deploy failed verification and the rollback failed"
        after: Report | None = None
    else:
        checks.append(
            _timed(
                t0,
                CheckResult(
                    "rollback",
                    Status.PASS,
                    rolled.summary,
                    {
                        "from_deployment": rolled.from_deployment,
                        "to_deployment": rolled.to_deployment,
                        **rolled.details,
                    },
                ),
            )
        )
        outputs["rolled-back-to"] = rolled.to_deployment
        after = steps.verify(deployed.verify_url)
        checks.append(_step("verify-after-rollback", after))
        if after.ok:
            severity, title = "P1", f"{environment} deploy rolled back: verification failed ({', '.join(failed)})"
        else:
            severity, title = "P0", f"{environment} is failing verification even after the rollback"
    impact = f"deployment {deployed.deployment_id} failed {', '.join(failed)} on {deployed.verify_url}; " + (
        "production is back on the previous deployment" if severity == "P1" else "production may be down"
    )
    t0 = time.monotonic()
    try:
        incident = steps.incident(
            key=key,
            severity=severity,
            title=title,
            impact=impact,
            details={"failed_checks": failed, "deployment": deployed.deployment_id, "url": deployed.verify_url},
        )
    except OpsError as err:
        incident = _error("incident", err, t0)
    checks.append(_timed(t0, incident))
    outputs.update({"severity": severity, "incident-key": key})
    if isinstance(incident.details.get("location"), str):
        outputs["incident-url"] = incident.details["location"]
    return finish()


def deployment_label(deployed: Deployed) -> str:
    return deployed.deployment_id or deployed.url
