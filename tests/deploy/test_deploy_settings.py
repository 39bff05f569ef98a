"""The deploy and vercel config sections: defaults, overrides, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from aikinklab_ops.config import load_config
from aikinklab_ops.deploy import DeploySettings, PollPolicy
from aikinklab_ops.errors import ConfigError
from aikinklab_ops.vercel.settings import VercelSettings


def test_defaults(tmp_path: Path) -> None:
    cfg = load_config(None, env={}, cwd=tmp_path)
    s = DeploySettings.from_config(cfg)
    assert (s.timeout_s, s.concurrency, s.log_lines, s.default_environment) == (1200, 8, 50, "preview")
    assert s.poll == PollPolicy((1.0, 5.0, 15.0), 10) and s.cancel_on_timeout and not s.include_env_files
    v = VercelSettings.from_config(cfg)
    assert v.project_name == "aikinklab" and v.root_directory is None and v.max_retry_after_s == 60
    assert v.backoff_s == (1.0, 2.0, 4.0, 8.0)


def test_overrides(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text(
        "vercel:\n  root_directory: apps/web\ndeploy:\n  concurrency: 3\n  ignore: ['*.map']\n  poll_intervals_s: [2]\n"
    )
    cfg = load_config(None, env={}, cwd=tmp_path)
    s = DeploySettings.from_config(cfg)
    assert s.concurrency == 3 and s.ignore == ("*.map",) and s.root_directory == "apps/web"
    assert [s.poll.interval(n) for n in (0, 50)] == [2.0, 2.0]


@pytest.mark.parametrize(
    ("yml", "where"),
    [
        ("deploy:\n  concurrency: eight\n", "deploy.concurrency"),
        ("deploy:\n  concurency: 8\n", 'unknown key "concurency"'),
        ("deploy:\n  timeout_s: 0\n", "deploy.timeout_s"),
        ("vercel:\n  retries: 99\n", "vercel.retries"),
    ],
)
def test_bad_values_name_the_field(tmp_path: Path, yml: str, where: str) -> None:
    (tmp_path / "ops.yml").write_text(yml)
    with pytest.raises(ConfigError) as info:
        load_config(None, env={}, cwd=tmp_path)
    assert where in str(info.value)


def test_poll_policy_backs_off() -> None:
    p = PollPolicy((1.0, 5.0, 15.0), 10)
    assert [p.interval(n) for n in (0, 9, 10, 19, 20, 500)] == [1.0, 1.0, 5.0, 5.0, 15.0, 15.0]
