"""The backup and restore actions on a real git repository in the workspace: an archive is made,
verified, encrypted to every recipient listed, pruned when asked, and restored."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from actions_runner import ActionRunner, assert_outputs_written, make_git_repo


def _age_key(path: Path) -> str:
    proc = subprocess.run(["age-keygen", "-o", str(path)], capture_output=True, text=True, check=True)
    return proc.stderr.split("Public key: ", 1)[1].strip()


def test_backup_makes_a_verified_archive_and_restore_brings_the_repository_back(action_runner: ActionRunner) -> None:
    make_git_repo(action_runner.workspace)
    run = action_runner.run("actions/backup", {"type": "code"})
    assert run.ok, run.log
    assert_outputs_written(run, "actions/backup")
    archive = Path(run.outputs["archive"])
    assert archive.is_file() and archive.is_relative_to(action_runner.workspace)
    assert run.outputs["tag"] == "", "not published"
    assert len(run.outputs["sha256"]) == 64
    assert run.step("prune").skipped, "pruning is opt-in"

    into = action_runner.workspace / "restored"
    restored = action_runner.run("actions/restore", {"archive": str(archive), "into": str(into)})
    assert restored.ok, restored.log
    assert_outputs_written(restored, "actions/restore")
    assert restored.outputs["into"] == str(into)
    assert restored.outputs["within_rto"] == "true"
    assert (into / "repository" / "app.js").read_text() == "console.log('aikinklab')\n"


def test_backup_encrypts_to_each_recipient_line_and_prunes_when_asked(
    action_runner: ActionRunner, tmp_path: Path
) -> None:
    make_git_repo(action_runner.workspace)
    first, second = _age_key(tmp_path / "ops.key"), _age_key(tmp_path / "offline.key")
    run = action_runner.run("actions/backup", {"type": "code", "encrypt-to": f"{first}\n{second}\n", "prune": "true"})
    assert run.ok, run.log
    archive = Path(run.outputs["archive"])
    assert archive.name.endswith(".age")
    assert not run.step("prune").skipped and run.step("prune").returncode == 0
    assert "kept 1" in run.step("prune").stdout
    report = json.loads(Path(run.outputs["report"]).read_text(encoding="utf-8"))
    assert report["ok"] is True

    into = action_runner.workspace / "restored"
    restored = action_runner.run(
        "actions/restore", {"archive": str(archive), "into": str(into), "identity": str(tmp_path / "offline.key")}
    )
    assert restored.ok, restored.log
    assert (into / "repository" / "app.js").is_file()


def test_backup_refuses_a_recipient_line_that_looks_like_an_option(action_runner: ActionRunner) -> None:
    run = action_runner.run("actions/backup", {"encrypt-to": "age1valid\n--publish"})
    assert run.step("run").returncode == 2
    assert "::error::input 'encrypt-to' must not start with '-'" in run.step("run").stdout
