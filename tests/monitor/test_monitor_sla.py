from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from aikinklab_ops.monitor import figures, percentile
from aikinklab_ops.monitor.probe import Probe

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


def p(i: int, target: str, ok: bool, ms: float | None, status: int | None = 200) -> Probe:
    return Probe(T0 + timedelta(seconds=30 * i), "https://www.aikinklab.com", target, target, ok, ms, status)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([5.0], 5.0),
        ([float(v) for v in range(1, 101)], 95.0),
        ([float(v) for v in range(1, 21)], 19.0),
        ([1.0, 2.0, 3.0], 3.0),
    ],
)
def test_monitor_p95_is_nearest_rank(values: list[float], expected: float | None) -> None:
    assert percentile(values, 95) == expected


def test_monitor_figures_count_rounds_for_uptime_and_requests_for_errors() -> None:
    probes = [
        p(0, "health", True, 100),
        p(0, "page", True, 300),
        p(1, "health", False, None, None),
        p(1, "page", False, None, None),  # down: no answer
        p(2, "health", True, 120, 200),
        p(2, "page", False, 90, 500),  # up, but the page errors
    ]
    f = figures(probes)
    assert (f.rounds, f.up_rounds) == (3, 2)
    assert f.uptime_percent == pytest.approx(200 / 3)
    assert (f.requests, f.errors) == (6, 3)
    assert f.error_rate_percent == 50
    assert f.p95_ms == 300  # timeouts have no latency; the 500 answered and is timed
    assert f.last_up is True


def test_monitor_figures_of_nothing_are_none() -> None:
    f = figures([])
    assert f.uptime_percent is None and f.error_rate_percent is None and f.p95_ms is None and f.last_up is None
