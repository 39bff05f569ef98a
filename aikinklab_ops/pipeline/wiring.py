"""The real steps behind ``run_pipeline``: the same code paths as the single commands.

Each step calls the command it stands for (``gate``, ``deploy``) or the library entry the command
calls (``run_verification``, ``rollback``, ``open_incident``), so a pipeline run and the commands
run one by one behave the same, GitHub deployment statuses and preview comments included.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aikinklab_ops.commands import CommandContext
from aikinklab_ops.commands._vercel_common import make_client
from aikinklab_ops.deploy import DeploySettings, promote
from aikinklab_ops.deploy import rollback as vercel_rollback
from aikinklab_ops.deploy.environment import EnvironmentTarget
from aikinklab_ops.deploy.promote import current_production_id
from aikinklab_ops.errors import CheckFailed, UsageError
from aikinklab_ops.github.issues import IssueTracker
from aikinklab_ops.incident import (
    IncidentSettings,
    Severity,
    find_incident,
    open_incident,
    resolve_incident,
)
from aikinklab_ops.pipeline.flow import Deployed, RolledBack
from aikinklab_ops.report import CheckResult, Report
from aikinklab_ops.vercel import VercelClient
from aikinklab_ops.verify import VerifySettings, run_verification


def served_url(client: VercelClient, env_url: str | None, deployment_url: str) -> str:
    """Where users reach the environment now.

    On Vercel that is the environment's own URL (the production domain). The local sandbox serves
    each alias on a loopback port and says so in the project's ``sandboxAliases``; there the
    domain's loopback address is the one to check. Without an environment URL (previews), the
    deployment's own URL is all there is.
    """
    if not env_url:
        return deployment_url
    host = (urlsplit(env_url).hostname or "").lower()
    mapping = client.get_project().get("sandboxAliases")
    if isinstance(mapping, Mapping) and isinstance(mapping.get(host), str):
        return str(mapping[host])
    return env_url


@dataclass
class CommandSteps:
    """``Steps`` for a real run, built from the pipeline command's arguments."""

    ctx: CommandContext
    args: argparse.Namespace
    environment: EnvironmentTarget
    ca_bundle: Path | None = None
    _client: VercelClient | None = None
    # What production served before this run deployed: the one an automatic rollback returns to.
    # "The newest deployment that ever served production" could be a release that already failed.
    previous_production: str | None = None

    @property
    def client(self) -> VercelClient:
        if self._client is None:
            self._client = make_client(self.ctx)
        return self._client

    def preflight(self) -> None:
        """Refuse bad input (exit 2) before the gates run, a dry run included."""
        path = (self.ctx.cwd / self.args.path).resolve()
        if not path.is_dir():
            raise UsageError(
                f"--path {self.args.path}: {path} is not a directory", hint="pass the app's folder with --path"
            )
        self.client.require_project()

    def gate(self) -> Report:
        from aikinklab_ops.commands import gate as gate_cmd

        a = self.args
        ns = argparse.Namespace(
            only=a.only_gate,
            skip=a.skip_gate,
            sha=a.sha,
            environment=self.environment.name,
            junit=a.junit,
            audit_report=a.audit_report,
            lighthouse=a.lighthouse,
            vitals=a.vitals,
            flags=a.flags,
            monitoring=a.monitoring,
        )
        self.ctx.log(f"pipeline: gate ({self.environment.name})")
        return gate_cmd.run(ns, self.ctx)

    def deploy(self) -> Deployed:
        from aikinklab_ops.commands import deploy as deploy_cmd

        a = self.args
        ns = argparse.Namespace(
            path=a.path,
            prebuilt=a.prebuilt,
            env=self.environment.name,
            ref=a.ref,
            sha=a.sha,
            timeout=a.timeout,
            concurrency=None,
            include_env_files=False,
        )
        if self.environment.is_production:
            self.previous_production = current_production_id(self.client)
        self.ctx.log(f"pipeline: deploy {a.path} to {self.environment.name}")
        report = deploy_cmd.run(ns, self.ctx)
        check = report.check("deploy")
        details = dict(check.details)
        if check.status.failing and details.get("error_code") == "NOT_PROMOTED" and details.get("deployment_id"):
            # Production is pinned by an earlier rollback (or the project does not auto-assign its
            # domains): the build is READY but staged. Releasing it is what this pipeline is for;
            # verification below, and the rollback after it, still protect production.
            self._promote(str(details["deployment_id"]))
            details["promoted"] = True
        elif check.status.failing:
            raise CheckFailed(check.summary, hint="see the deploy step's build log and inspector URL above")
        url = str(details.get("url") or "")
        verify_url = served_url(self.client, self.environment.url, url)
        return Deployed(
            deployment_id=str(details.get("deployment_id") or ""),
            url=url,
            verify_url=verify_url,
            environment=self.environment.name,
            summary=check.summary,
            details=details,
            outputs=dict(report.outputs),
        )

    def _promote(self, deployment_id: str) -> None:
        settings = DeploySettings.from_config(self.ctx.config)
        self.ctx.log(f"pipeline: {deployment_id} is staged (production pinned); promoting it")
        result = promote(self.client, deployment_id, timeout_s=settings.timeout_s, poll=settings.poll, log=self.ctx.log)
        if not result.ok:
            raise CheckFailed(f"the staged release {deployment_id} could not be promoted: {result.message}")

    def verify(self, url: str) -> Report:
        self.ctx.log(f"pipeline: verify {url}")
        cfg = self.ctx.config
        return run_verification(
            url, VerifySettings.from_config(cfg), ca_bundle=self.ca_bundle, config=cfg, progress=self.ctx.progress()
        )

    def rollback(self, failed: Deployed) -> RolledBack:
        self.ctx.log(f"pipeline: verification of {failed.deployment_id} failed; rolling production back")
        settings = DeploySettings.from_config(self.ctx.config)
        if self.environment.is_production and self.previous_production in (None, failed.deployment_id):
            raise CheckFailed(
                f"nothing served production before {failed.deployment_id}: there is no release to roll back to",
                hint="fix the release and run the pipeline again, or promote a known good deployment",
            )
        result = vercel_rollback(
            self.client,
            to=self.previous_production,
            reason=f"aikinklab-ops pipeline: {failed.deployment_id} failed verification",
            timeout_s=settings.timeout_s,
            poll=settings.poll,
            log=self.ctx.log,
        )
        if not result.ok or not result.to_deployment:
            raise CheckFailed(f"rollback did not complete: {result.message}")
        return RolledBack(result.from_deployment, result.to_deployment, result.message, {"url": result.to_url})

    def _incidents(self) -> tuple[IncidentSettings, IssueTracker | None]:
        from aikinklab_ops.commands.incident import incident_context

        return incident_context(self.ctx)

    def incident(self, *, key: str, severity: str, title: str, impact: str, details: Mapping[str, Any]) -> CheckResult:
        settings, tracker = self._incidents()
        incident = open_incident(
            settings,
            key=key,
            severity=Severity.parse(severity),
            title=title,
            impact=impact,
            status="Rolled back, investigating" if severity == "P1" else "Investigating",
            details=dict(details),
            github=tracker,
        )
        return incident.to_check("incident")

    def resolve(self, *, key: str, resolution: str) -> CheckResult | None:
        settings, tracker = self._incidents()
        if find_incident(settings, key=key, github=tracker) is None:
            return None
        incident = resolve_incident(
            settings,
            key=key,
            resolution=resolution,
            root_cause="see the incident's timeline; write it up in the post-mortem",
            prevention="to be decided in the post-mortem",
            github=tracker,
        )
        return incident.to_check("incident")
