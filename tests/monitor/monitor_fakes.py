"""Test helpers for the monitor: a site on pytest-httpserver and a clock that never really waits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


@dataclass
class FakeTime:
    """Monotonic clock, sleep and wall clock that move together, instantly."""

    t: float = 0.0
    start: datetime = T0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    def later(self, **delta: float) -> None:
        self.start += timedelta(**delta)
