"""The README's main command: the whole runbook rehearsed with no account and no network."""

from __future__ import annotations

import io
import json
from pathlib import Path

from aikinklab_ops.cli import main
from aikinklab_ops.examples.workspace import DEMO_SECRET


def test_demo_rehearses_release_rollback_incident_backup_and_restore(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    keep = tmp_path / "rehearsal"
    code = main(["--format", "json", "demo", "--keep", str(keep)], env={}, stdout=out, stderr=err, cwd=tmp_path)
    assert code == 0, err.getvalue()[-3000:]
    doc = json.loads(out.getvalue())
    summary = {c["name"]: c["status"] for c in doc["rehearsal"]["checks"]}
    assert summary == dict.fromkeys(
        ["gate", "good release", "broken release", "alerts", "monitor", "backup", "no secret in the backup",
         "restore"],
        "pass",
    )  # fmt: skip
    broken = {c["name"]: c["status"] for c in doc["steps"]["broken release"]["checks"]}
    assert broken["verify"] == "fail" and broken["rollback"] == "pass" and broken["incident"] == "pass"
    restored = keep / "restored" / "repository"
    assert (restored / "site" / "index.html").is_file()
    assert (keep / "aikinklab" / "incidents").is_dir()
    everything = out.getvalue() + err.getvalue()
    assert DEMO_SECRET not in everything
    for path in keep.rglob("*"):
        if path.is_file() and "aikinklab/.env.local" not in path.as_posix() and path.suffix != ".age":
            assert DEMO_SECRET.encode() not in path.read_bytes(), f"the demo secret leaked into {path}"
