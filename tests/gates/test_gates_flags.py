"""The feature-flags gate: the shipped schema, environments, duplicates and remove_by dates."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gates_support import TODAY

from aikinklab_ops.config import Config, load_config
from aikinklab_ops.gates import GateInputs, run_gates
from aikinklab_ops.gates.examples import artifacts_dir
from aikinklab_ops.report import CheckResult, Status

GOOD = """\
flags:
  new-pricing-page:
    description: the redesigned pricing page
    owner: "@aikinklab/web"
    default: false
    environments: {production: false, staging: true, preview: true}
"""


def gate(tmp_path: Path, text: str | None, *, cfg: Config | None = None, env: str | None = None,
         name: str = "feature-flags.yml") -> CheckResult:  # fmt: skip
    if text is not None:
        (tmp_path / name).write_text(textwrap.dedent(text))
    cfg = cfg or load_config(None, env={}, cwd=tmp_path)
    inputs = GateInputs(cwd=tmp_path, environment=env, today=TODAY)
    return run_gates(cfg, inputs, only=["feature-flags"]).check("feature-flags")


def test_valid_flags_pass(tmp_path: Path) -> None:
    result = gate(tmp_path, GOOD, env="production")
    assert (result.status, result.summary) == (Status.PASS, "1 flags valid for production, staging, preview")
    assert result.label == "Feature flags configured"


def test_json_flags_file(tmp_path: Path, write_config) -> None:
    (tmp_path / "flags.json").write_text(
        '{"flags": {"beta": {"description": "b", "owner": "me", "default": true,'
        ' "environments": {"production": false, "staging": true, "preview": true}}}}'
    )
    cfg = write_config("gates:\n  feature_flags:\n    file: flags.json\n")
    assert gate(tmp_path, None, cfg=cfg).status is Status.PASS


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    result = gate(
        tmp_path,
        """\
        flags:
          checkout-v2:
            owner: "@pay"
            default: false
            environments: {production: false, staging: true, prod: true}
          banner:
            description: top banner
            owner: "@web"
            default: true
            environments: {production: true, staging: true, preview: true}
            colour: red
        """,
    )
    assert result.status is Status.FAIL
    problems = result.details["problems"]
    name = str(tmp_path / "feature-flags.yml")
    assert f"{name}:3: flags.checkout-v2: missing description" in problems
    assert (
        f"{name}:5: flags.checkout-v2: unknown environment 'prod' (configured: production, staging, preview)"
        in problems
    )
    assert f"{name}:5: flags.checkout-v2: no value for preview" in problems
    assert f"{name}:11: flags.banner: unknown key colour" in problems


def test_duplicate_keys_are_an_error_naming_both_lines(tmp_path: Path) -> None:
    result = gate(tmp_path, GOOD + "  new-pricing-page:\n    description: again\n")
    assert result.status is Status.ERROR
    assert "duplicate key 'new-pricing-page' (first at line 2)" in result.summary


def test_past_remove_by_warns(tmp_path: Path) -> None:
    result = gate(tmp_path, GOOD + "    remove_by: 2026-11-01\n")
    assert result.status is Status.WARN
    assert "flags.new-pricing-page is past its remove_by date 2026-11-01 (owner @aikinklab/web)" in result.summary


def test_unknown_target_environment_fails(tmp_path: Path) -> None:
    result = gate(tmp_path, GOOD, env="qa")
    assert result.status is Status.FAIL
    assert "the target environment 'qa' is not one of production, staging, preview" in result.summary


def test_configured_environments_replace_the_environments_section(tmp_path: Path, write_config) -> None:
    cfg = write_config("gates:\n  feature_flags:\n    environments: [production, staging, canary]\n")
    result = gate(tmp_path, GOOD, cfg=cfg)
    assert result.status is Status.FAIL
    assert "unknown environment 'preview'" in result.summary and "no value for canary" in result.summary


def test_missing_file_is_an_error_and_unused_flags_skip(tmp_path: Path, write_config) -> None:
    result = gate(tmp_path, None)
    assert result.status is Status.ERROR
    assert f"{tmp_path / 'feature-flags.yml'}: no such file" in result.summary
    cfg = write_config("gates:\n  feature_flags:\n    used: false\n")
    result = gate(tmp_path, None, cfg=cfg)
    assert (result.status, result.summary) == (Status.SKIP, "no feature flags used (gates.feature_flags.used is false)")


def test_bundled_example_flags_are_valid(tmp_path: Path) -> None:
    cfg = load_config(None, env={}, cwd=tmp_path)
    inputs = GateInputs(cwd=tmp_path, flags=artifacts_dir() / "feature-flags.yml", today=TODAY)
    assert run_gates(cfg, inputs, only=["feature-flags"]).check("feature-flags").status is Status.PASS
