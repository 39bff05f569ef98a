"""SLA figures from probes: uptime, p95 latency and error rate.

Uptime counts probe rounds (the site is up in a round when its health endpoint answered
healthy, degraded included); the error rate counts requests (health and pages); p95 is the
nearest-rank percentile of the response times of requests that got an answer, because a
timeout has no latency, it has an error.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aikinklab_ops.monitor.probe import Probe


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``pct`` % of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Figures:
    rounds: int
    up_rounds: int
    requests: int
    errors: int
    p95_ms: float | None
    since: datetime | None
    until: datetime | None
    last_up: bool | None  # the newest round's verdict

    @property
    def uptime_percent(self) -> float | None:
        return None if not self.rounds else 100.0 * self.up_rounds / self.rounds

    @property
    def error_rate_percent(self) -> float | None:
        return None if not self.requests else 100.0 * self.errors / self.requests

    def to_dict(self) -> dict[str, Any]:
        up, err = self.uptime_percent, self.error_rate_percent
        return {
            "rounds": self.rounds,
            "up_rounds": self.up_rounds,
            "uptime_percent": None if up is None else round(up, 3),
            "requests": self.requests,
            "errors": self.errors,
            "error_rate_percent": None if err is None else round(err, 3),
            "p95_ms": None if self.p95_ms is None else round(self.p95_ms, 1),
            "since": self.since.isoformat(timespec="seconds") if self.since else None,
            "until": self.until.isoformat(timespec="seconds") if self.until else None,
        }


def figures(probes: Iterable[Probe]) -> Figures:
    rounds: dict[datetime, list[Probe]] = defaultdict(list)
    latencies: list[float] = []
    requests = errors = 0
    for p in probes:
        rounds[p.t].append(p)
        requests += 1
        if not p.ok:
            errors += 1
        if p.ms is not None and p.http_status is not None:
            latencies.append(p.ms)
    verdicts = {}
    for t, group in rounds.items():
        health = [p for p in group if p.target == "health"]
        verdicts[t] = all(p.ok for p in health) if health else all(p.ok for p in group)
    times = sorted(verdicts)
    return Figures(
        rounds=len(verdicts),
        up_rounds=sum(1 for v in verdicts.values() if v),
        requests=requests,
        errors=errors,
        p95_ms=percentile(latencies, 95),
        since=times[0] if times else None,
        until=times[-1] if times else None,
        last_up=verdicts[times[-1]] if times else None,
    )
