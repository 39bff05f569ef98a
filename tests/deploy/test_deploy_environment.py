"""Branch/event -> environment: production only from a push to its branch or an explicit --env."""

from __future__ import annotations

from pathlib import Path

import pytest

from aikinklab_ops.config import load_config
from aikinklab_ops.deploy import environments_from_config, resolve_environment
from aikinklab_ops.errors import ConfigError, UsageError


@pytest.fixture
def envs():  # type: ignore[no-untyped-def]
    return environments_from_config(load_config(None, env={}, cwd=Path("/nonexistent")))


@pytest.mark.parametrize(
    ("event", "ref", "override", "expected"),
    [
        ("push", "refs/heads/main", None, "production"),
        ("push", "refs/heads/develop", None, "staging"),
        ("pull_request", "refs/pull/7/merge", None, "preview"),
        ("pull_request_target", "refs/heads/main", None, "preview"),
        ("push", "refs/heads/feature/x", None, "preview"),
        ("push", "refs/tags/v1.0.0", None, "preview"),
        ("workflow_dispatch", "refs/heads/main", None, "preview"),
        (None, None, None, "preview"),
        (None, "refs/heads/main", None, "preview"),
        ("push", "refs/heads/develop", "production", "production"),
        ("pull_request", "refs/pull/7/merge", "staging", "staging"),
    ],
)
def test_mapping(envs, event, ref, override, expected) -> None:  # type: ignore[no-untyped-def]
    assert resolve_environment(envs, override=override, event_name=event, ref=ref).environment.name == expected


def test_unknown_env_lists_the_choices(envs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="unknown environment 'prod'") as info:
        resolve_environment(envs, override="prod")
    assert "production" in (info.value.hint or "")


def test_production_default_environment_is_refused_by_the_schema(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text("deploy:\n  default_environment: production\n")
    with pytest.raises(ConfigError, match=r"deploy\.default_environment"):
        load_config(None, env={}, cwd=tmp_path)


def test_a_default_that_is_production_by_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text(
        "environments:\n  live:\n    vercel_target: production\ndeploy:\n  default_environment: live\n"
    )
    envs = environments_from_config(load_config(None, env={}, cwd=tmp_path))
    with pytest.raises(ConfigError, match="production environment"):
        resolve_environment(envs, default="live")


def test_staging_defaults(envs) -> None:  # type: ignore[no-untyped-def]
    staging = envs["staging"]
    assert staging.aliases == ("staging.aikinklab.com",) and staging.custom_environment is None
    assert envs["production"].is_production and not staging.is_production


def test_alias_that_is_not_a_domain_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text("environments:\n  staging:\n    aliases: ['https://staging.aikinklab.com/']\n")
    with pytest.raises(ConfigError, match=r"environments\.staging\.aliases\[0\]"):
        environments_from_config(load_config(None, env={}, cwd=tmp_path))
