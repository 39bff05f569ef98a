"""The steps every action shares, run as written: where it finds its requirement file, what it
asks pip to install, that it leaves the caller's job environment alone, and that it refuses an
input that would turn into an option of the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from actions_runner import REPO, ActionRun, ActionRunner, action_files, load_action

ACTIONS = action_files()
IDS = [str(p.relative_to(REPO)) for p in ACTIONS]


def _required_inputs(path: Path) -> dict[str, str]:
    return {name: "x" for name, meta in (load_action(path).get("inputs") or {}).items() if meta.get("required")}


@pytest.mark.parametrize("path", ACTIONS, ids=IDS)
def test_install_uses_the_hash_pinned_file_then_the_package_without_its_dependencies(
    action_runner: ActionRunner, path: Path
) -> None:
    # An option-looking config stops the run before the CLI, so only the shared steps matter here.
    run = action_runner.run(path, {**_required_inputs(path), "config": "--help"})
    install = run.step("install")
    assert install.returncode == 0, install.stderr
    requirements, package = run.pip_calls
    assert requirements[:5] == ["--quiet", "--require-hashes", "--only-binary", ":all:", "-r"]
    assert Path(requirements[5]).resolve() == REPO / "requirements" / "action.txt"
    assert package[:3] == ["--quiet", "--no-deps", "--no-build-isolation"]
    assert Path(package[3]).resolve() == REPO
    assert install.outputs["cli"] == str(run.runner_temp / "aikinklab-ops-venv" / "bin" / "aikinklab-ops")
    sha = run.step("requirements").outputs["sha256"]
    assert len(sha) == 64, "the pip cache is keyed on the requirement file's hash"


@pytest.mark.parametrize("path", ACTIONS, ids=IDS)
def test_an_input_that_looks_like_an_option_is_refused_before_the_cli_runs(
    action_runner: ActionRunner, path: Path
) -> None:
    run = action_runner.run(path, {**_required_inputs(path), "config": "--help"})
    step = run.step("run")
    assert step.returncode == 2
    assert "::error::input 'config' must not start with '-'" in step.stdout
    assert "usage:" not in run.log, "the CLI must not have been called"
    assert not run.ok


@pytest.mark.parametrize("path", ACTIONS, ids=IDS)
def test_no_step_changes_the_callers_job_environment(action_runner: ActionRunner, path: Path) -> None:
    run: ActionRun = action_runner.run(path, {**_required_inputs(path), "config": "--help"})
    assert [s.env_file for s in run.steps if s.env_file] == []
