"""The ``gates`` config section as frozen settings, and what a run is given on top of it.

Config paths are resolved against the folder of the config file that named them (so ``ops.yml``
at the repository root can say ``reports/junit.xml`` and mean the same file wherever the command
runs from); the built-in defaults and command-line paths resolve against the working directory,
because that is where the workflow steps that write them run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from aikinklab_ops.config import Config
from aikinklab_ops.errors import ConfigError

GATE_NAMES = ("tests", "security-audit", "performance", "migrations", "feature-flags", "monitoring")
SEVERITIES = ("info", "low", "moderate", "high", "critical")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class GateInputs:
    """What the command line (or a library caller) adds to the config for one run.

    ``None`` means "use the config"; an explicit tuple, even empty, replaces it. Relative paths
    here resolve against ``cwd``.
    """

    cwd: Path = field(default_factory=Path.cwd)
    junit: tuple[Path, ...] | None = None
    audit_reports: tuple[Path, ...] | None = None
    lighthouse: tuple[Path, ...] | None = None
    vitals: tuple[Path, ...] | None = None
    flags: Path | None = None
    monitoring: Path | None = None
    sha: str | None = None
    environment: str | None = None
    # The gate's own job (GITHUB_JOB), which must not wait for itself.
    own_job: str | None = None
    today: date = field(default_factory=lambda: datetime.now(timezone.utc).date())


@dataclass(frozen=True)
class AllowEntry:
    index: int
    reason: str
    expires: date
    id: str | None = None
    module: str | None = None
    path: str | None = None

    def describe(self) -> str:
        parts = [f"{k} {v}" for k, v in (("id", self.id), ("module", self.module), ("path", self.path)) if v]
        return f"allowlist[{self.index}] ({', '.join(parts)})"


@dataclass(frozen=True)
class GithubChecksSettings:
    enabled: bool = True
    required: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    wait_timeout_s: float = 600.0
    poll_interval_s: float = 15.0
    request_timeout_s: float = 30.0


@dataclass(frozen=True)
class Budget:
    key: str  # an audit id, or "categories:<id>"
    max_numeric_value: float | None = None
    min_score: float | None = None
    level: str = "error"
    source: str = "gates.performance.budgets"


@dataclass(frozen=True)
class GatesSettings:
    checks: tuple[str, ...]
    junit: tuple[Path, ...]
    github: GithubChecksSettings
    audit_reports: tuple[Path, ...]
    fail_on: str
    allowlist: tuple[AllowEntry, ...]
    lighthouse: tuple[Path, ...]
    vitals: tuple[Path, ...]
    aggregate: str
    budgets: tuple[Budget, ...]
    vitals_budgets: Mapping[str, float]
    migrations_applicable: bool
    migrations_command: tuple[str, ...]
    migrations_timeout_s: float
    migrations_cwd: Path
    flags_used: bool
    flags_file: Path | None
    flag_environments: tuple[str, ...]
    monitoring_file: Path | None
    where: str  # the config's name, for messages


def config_base(cfg: Config, cwd: Path) -> Path:
    return cfg.path.parent if cfg.path is not None else cwd


def parse_date(value: Any, where: str, hint: str) -> date:
    """YAML gives ``2026-06-30`` as a date and ``"2026-06-30"`` as text; both mean the same day."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    shown = "nothing" if value is None else repr(value)
    raise ConfigError(f"{where}: expected a date YYYY-MM-DD, found {shown}", hint=hint)


def _allowlist(raw: Sequence[Any], where: str) -> tuple[AllowEntry, ...]:
    out = []
    for i, item in enumerate(raw):
        here = f"{where}: gates.security_audit.allowlist[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{here}: expected a mapping with id/module/path, reason and expires")
        if not str(item.get("reason") or "").strip():
            raise ConfigError(f"{here}.reason: missing", hint="say why this finding is accepted")
        expires = parse_date(
            item.get("expires"), f"{here}.expires", "write expires: 2026-06-30 (at most a few months out)"
        )
        ident = item.get("id")
        out.append(
            AllowEntry(
                index=i,
                reason=str(item["reason"]).strip(),
                expires=expires,
                id=None if ident is None else str(ident).strip(),
                module=item.get("module"),
                path=item.get("path"),
            )
        )
        if not (out[-1].id or out[-1].module or out[-1].path):
            raise ConfigError(f"{here}: says nothing to match", hint="give an id (GHSA id or URL), a module or a path")
    return tuple(out)


def _budgets(raw: Mapping[str, Any], vitals: Mapping[str, Any], use_web_vitals: bool) -> tuple[Budget, ...]:
    budgets: dict[str, Budget] = {}
    if use_web_vitals:
        # FID cannot be measured in a lab run; Total Blocking Time is its lab proxy.
        # max-potential-fid is not: it flags trivially fast pages (138 ms on a 1.0-score page).
        for key, vital in (
            ("largest-contentful-paint", "lcp_ms"),
            ("cumulative-layout-shift", "cls"),
            ("total-blocking-time", "tbt_ms"),
        ):
            if vitals.get(vital) is not None:
                budgets[key] = Budget(key, max_numeric_value=float(vitals[vital]), source=f"web_vitals.{vital}")
    for key, spec in raw.items():
        budgets[key] = Budget(
            key,
            max_numeric_value=None if spec.get("maxNumericValue") is None else float(spec["maxNumericValue"]),
            min_score=None if spec.get("minScore") is None else float(spec["minScore"]),
            level=str(spec.get("level", "error")),
        )
    return tuple(b for b in budgets.values() if b.level != "off")


def _paths(values: Any, base: Path) -> tuple[Path, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(base / v for v in values)


def build_settings(cfg: Config, inputs: GateInputs) -> GatesSettings:
    """Merge the config section and the run's inputs; command-line values replace config ones."""
    g = cfg.section("gates")
    where = cfg.source
    base = config_base(cfg, inputs.cwd)
    cwd = inputs.cwd

    def given(paths: tuple[Path, ...] | None, configured: tuple[Path, ...]) -> tuple[Path, ...]:
        return configured if paths is None else tuple(cwd / p for p in paths)

    tests = g.get("tests") or {}
    gh = tests.get("github") or {}
    audit = g.get("security_audit") or {}
    perf = g.get("performance") or {}
    mig = g.get("migrations") or {}
    flags = g.get("feature_flags") or {}
    mon = g.get("monitoring") or {}
    envs = flags.get("environments")
    if envs is None:
        envs = list(cfg.section("environments"))
    flags_file = (cwd / inputs.flags) if inputs.flags else (base / flags["file"] if flags.get("file") else None)
    mon_file = (cwd / inputs.monitoring) if inputs.monitoring else (base / mon["file"] if mon.get("file") else None)
    return GatesSettings(
        checks=tuple(g.get("checks") or GATE_NAMES),
        junit=given(inputs.junit, _paths(tests.get("junit"), base)),
        github=GithubChecksSettings(
            enabled=bool(gh.get("enabled", True)),
            required=tuple(gh.get("required") or ()),
            exclude=tuple(gh.get("exclude") or ()),
            wait_timeout_s=float(gh.get("wait_timeout_s", 600)),
            poll_interval_s=float(gh.get("poll_interval_s", 15)),
            request_timeout_s=float(gh.get("request_timeout_s", 30)),
        ),
        audit_reports=given(inputs.audit_reports, _paths(audit.get("report"), base)),
        fail_on=str(audit.get("fail_on", "high")),
        allowlist=_allowlist(audit.get("allowlist") or (), where),
        lighthouse=given(inputs.lighthouse, _paths(perf.get("lighthouse"), base)),
        vitals=given(inputs.vitals, _paths(perf.get("vitals"), base)),
        aggregate=str(perf.get("aggregate", "optimistic")),
        budgets=_budgets(perf.get("budgets") or {}, cfg.section("web_vitals"), bool(perf.get("use_web_vitals", True))),
        vitals_budgets={k: float(v) for k, v in cfg.section("web_vitals").items() if v is not None},
        migrations_applicable=bool(mig.get("applicable", False)),
        migrations_command=tuple(mig.get("command") or ()),
        migrations_timeout_s=float(mig.get("timeout_s", 120)),
        migrations_cwd=base / mig["cwd"] if mig.get("cwd") else base,
        flags_used=bool(flags.get("used", True)),
        flags_file=flags_file,
        flag_environments=tuple(envs),
        monitoring_file=mon_file,
        where=where,
    )
