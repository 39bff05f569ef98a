"""Frozen monitor settings from the ``monitor`` section, the verify probes and the alert thresholds.

Durations on the command line read as a person writes them (``30s``, ``5m``, ``1h``); a bare
number is seconds. A typo is an error naming the flag, never a silent default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from aikinklab_ops.config import Config
from aikinklab_ops.errors import ConfigError, UsageError
from aikinklab_ops.incident.settings import Thresholds, build_thresholds
from aikinklab_ops.verify.settings import HealthSettings, PageSpec, VerifySettings

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.I)
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str, *, where: str = "duration") -> float:
    """Seconds from ``30s`` / ``5m`` / ``1h`` / ``1.5h`` / ``90``."""
    m = _DURATION.match(str(text))
    if not m:
        raise UsageError(f"{where}: cannot read {text!r} as a duration", hint="write e.g. 30s, 5m or 1h")
    return float(m.group(1)) * _UNIT[(m.group(2) or "s").lower()]


@dataclass(frozen=True)
class MonitorSettings:
    url: str
    interval_s: float = 30.0
    duration_s: float = 300.0
    history: Path = Path(".aikinklab-ops/monitor-history.jsonl")
    history_window_h: float = 720.0
    timeout_s: float = 10.0
    incidents: bool = True
    thresholds: Thresholds = field(default_factory=Thresholds)
    health: HealthSettings = field(default_factory=HealthSettings)
    pages: tuple[PageSpec, ...] = (PageSpec("/", "home"),)
    max_redirects: int = 5
    rpo_hours: float = 24.0

    @property
    def site(self) -> str:
        """The URL as the history and the report name it: no credentials, no query.

        A preview URL can carry a protection-bypass token in its query; the history file is kept
        as a cache or artifact, so it must not hold one.
        """
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or self.url

    @property
    def incident_key(self) -> str:
        return f"monitor-{self.host}"


def build_monitor_settings(
    cfg: Config,
    *,
    cwd: Path,
    url: str | None = None,
    duration_s: float | None = None,
    interval_s: float | None = None,
    history: str | None = None,
) -> MonitorSettings:
    """Flags over ``monitor`` over ``environments.production.url``."""
    mon = cfg.section("monitor")
    target = url or mon.get("url") or cfg.get("environments.production.url")
    if not target:
        raise ConfigError(
            "monitor: no URL to watch (monitor.url and environments.production.url are both empty)",
            hint="pass --url https://www.aikinklab.com or set monitor.url in ops.yml",
        )
    parts = urlsplit(str(target))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--url: {target!r} is not an http(s) URL", hint="write e.g. https://www.aikinklab.com")
    interval = float(interval_s if interval_s is not None else mon.get("interval_s", 30))
    duration = float(duration_s if duration_s is not None else mon.get("duration_s", 300))
    if interval <= 0:
        raise UsageError("--interval: must be more than 0 seconds", hint="the runbook probes every 30s")
    if duration < 0:
        raise UsageError("--duration: must not be negative", hint="write e.g. 5m; 0 means a single probe round")
    hist = Path(history or str(mon.get("history") or ".aikinklab-ops/monitor-history.jsonl"))
    verify = VerifySettings.from_config(cfg)
    return MonitorSettings(
        url=str(target).rstrip("/") if not parts.query else str(target),
        interval_s=interval,
        duration_s=duration,
        history=hist if hist.is_absolute() else cwd / hist,
        history_window_h=float(mon.get("history_window_h", 720)),
        timeout_s=float(mon.get("timeout_s", 10)),
        incidents=bool(mon.get("incidents", True)),
        thresholds=build_thresholds(cfg),
        health=verify.health,
        pages=verify.pages,
        max_redirects=verify.max_redirects,
        rpo_hours=float(cfg.get("sla.rpo_hours") or 24),
    )
