"""``aikinklab-ops sandbox``: in-process through ``main`` and as a subprocess, as a user runs it."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from aikinklab_ops.cli import main


def _read_env(path: Path, timeout: float = 10.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= 4:
            env = {}
            for line in path.read_text().splitlines():
                key, _, value = line.removeprefix("export ").partition("=")
                env[key] = value
            return env
        time.sleep(0.01)
    raise AssertionError(f"the sandbox never wrote {path}")


def test_sandbox_command_serves_until_asked_to_stop_and_summarises(tmp_path: Path) -> None:
    env_file, out, err = tmp_path / "sandbox.env", io.StringIO(), io.StringIO()
    argv = [
        "--format",
        "json",
        "sandbox",
        "--state-dir",
        str(tmp_path / "state"),
        "--env-file",
        str(env_file),
        "--build-delay",
        "0.01",
        "--max-seconds",
        "30",
    ]
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(argv, env={}, stdout=out, stderr=err)))
    thread.start()
    env = _read_env(env_file)
    assert set(env) == {"VERCEL_API_URL", "VERCEL_TOKEN", "VERCEL_PROJECT_ID", "VERCEL_ORG_ID"}
    project = requests.get(
        f"{env['VERCEL_API_URL']}/v9/projects/{env['VERCEL_PROJECT_ID']}",
        headers={"Authorization": f"Bearer {env['VERCEL_TOKEN']}"},
        timeout=5,
    )
    assert project.status_code == 200
    assert requests.post(f"{env['VERCEL_API_URL']}/_sandbox/shutdown", timeout=5).status_code == 202
    thread.join(timeout=20)
    assert codes == [0]
    summary = json.loads(out.getvalue())
    assert summary["api_url"] == env["VERCEL_API_URL"]
    assert summary["deployments"] == 0
    assert "VERCEL_TOKEN" not in summary["env"]
    assert f"export VERCEL_API_URL={env['VERCEL_API_URL']}" in err.getvalue()
    assert (tmp_path / "state" / "files").is_dir()


@pytest.mark.parametrize(
    "args",
    [["--build-delay", "-1"], ["--port", "70000"], ["--queue-delay", "soon"]],
)
def test_sandbox_command_refuses_bad_arguments(args: list[str], tmp_path: Path) -> None:
    err = io.StringIO()
    assert main(["sandbox", *args], env={}, stdout=io.StringIO(), stderr=err, cwd=tmp_path) == 2
    assert "sandbox" in err.getvalue()


def test_sandbox_subprocess_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env_file = tmp_path / "sandbox.env"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aikinklab_ops",
            "--format",
            "json",
            "sandbox",
            "--state-dir",
            str(tmp_path / "s"),
            "--env-file",
            str(env_file),
            "--build-delay",
            "0.01",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    try:
        env = _read_env(env_file, timeout=20)
        fault = requests.post(f"{env['VERCEL_API_URL']}/_sandbox/faults", json={"kind": "build_stuck"}, timeout=5)
        assert fault.status_code == 201
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert json.loads(stdout)["api_url"] == env["VERCEL_API_URL"]


def test_max_seconds_stops_the_sandbox_by_itself(tmp_path: Path) -> None:
    out = io.StringIO()
    argv = ["sandbox", "--state-dir", str(tmp_path), "--max-seconds", "0.1"]
    assert main(argv, env={}, stdout=out, stderr=io.StringIO()) == 0
    assert "sandbox stopped after" in out.getvalue()
