from __future__ import annotations

from pathlib import Path

import pytest

from aikinklab_ops.config import load_config
from aikinklab_ops.errors import ConfigError, UsageError
from aikinklab_ops.monitor import build_monitor_settings, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("1.5h", 5400), ("90", 90), ("0", 0), ("500ms", 0.5), (" 2M ", 120)],
)
def test_monitor_durations_read_as_people_write_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["five minutes", "5 min", "-1s", "", "1h30m"])
def test_monitor_bad_duration_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(UsageError, match=r"write e\.g\. 30s, 5m or 1h"):
        parse_duration(text, where="--duration")


def test_monitor_defaults_are_the_runbooks(tmp_path: Path) -> None:
    s = build_monitor_settings(load_config(cwd=tmp_path), cwd=tmp_path)
    assert s.url == "https://www.aikinklab.com"
    assert (s.interval_s, s.duration_s, s.history_window_h) == (30, 300, 720)
    assert s.history == tmp_path / ".aikinklab-ops" / "monitor-history.jsonl"
    assert (s.thresholds.uptime_percent, s.thresholds.p95_ms, s.thresholds.error_rate_percent) == (99.9, 2000, 0.1)
    assert s.health.path == "/api/health"
    assert s.incident_key == "monitor-www.aikinklab.com"
    assert s.rpo_hours == 24


def test_monitor_flags_override_config_and_null_thresholds_follow_the_sla(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text(
        "monitor:\n  url: https://staging.aikinklab.com\n  interval_s: 10\n"
        "sla:\n  p95_ms: 1500\nalerts:\n  thresholds:\n    p95_ms: null\n"
    )
    cfg = load_config(cwd=tmp_path)
    s = build_monitor_settings(cfg, cwd=tmp_path, duration_s=60, history="h.jsonl")
    assert s.url == "https://staging.aikinklab.com"
    assert (s.interval_s, s.duration_s) == (10, 60)
    assert s.history == tmp_path / "h.jsonl"
    assert s.thresholds.p95_ms == 1500


def test_monitor_without_any_url_says_where_to_set_one(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text("environments:\n  production:\n    url: null\n")
    with pytest.raises(ConfigError, match="no URL to watch") as caught:
        build_monitor_settings(load_config(cwd=tmp_path), cwd=tmp_path)
    assert "--url" in str(caught.value)


def test_monitor_config_typos_are_named(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text("monitor:\n  interval: 30\n")
    with pytest.raises(ConfigError, match=r'monitor\.interval: unknown key "interval"') as caught:
        load_config(cwd=tmp_path)
    assert 'did you mean "interval_s"' in str(caught.value)
