"""The installed command, run as a user would: open and resolve an incident without GitHub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SMTP_"))}
    return subprocess.run(
        [sys.executable, "-m", "aikinklab_ops", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_incident_e2e_local_lifecycle(tmp_path: Path) -> None:
    opened = cli("incident", "open", "--key", "demo", "--severity", "P3", "--title", "Logo misaligned", cwd=tmp_path)
    assert opened.returncode == 0, opened.stderr
    assert "🚨 INCIDENT ALERT - P3" in opened.stdout
    assert "incidents are kept as files" in opened.stderr
    resolved = cli(
        "incident",
        "resolve",
        "--key",
        "demo",
        "--resolution",
        "css fix",
        "--root-cause",
        "a typo",
        "--prevention",
        "visual tests",
        cwd=tmp_path,
    )
    assert resolved.returncode == 0, resolved.stderr
    text = (tmp_path / ".aikinklab-ops" / "incidents" / "demo.md").read_text()
    assert "✅ INCIDENT RESOLVED" in text and '"status": "resolved"' in text
