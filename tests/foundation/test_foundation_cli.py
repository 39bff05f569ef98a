"""The CLI contract every command shares: formats, exit codes, GitHub runtime files, secrets."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

from aikinklab_ops import __version__
from aikinklab_ops.cli import main
from aikinklab_ops.github.runtime import format_outputs

TOKEN = "vercel_tok_0123456789abcdef"
GH_TOKEN = "ghp_abcdefghijklmnop0123456789"


def run(argv: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env or {}, stdout=out, stderr=err, cwd=tmp_path)
    return code, out.getvalue(), err.getvalue()


def test_config_check_on_defaults(tmp_path: Path) -> None:
    code, out, _ = run(["config", "check"], tmp_path)
    assert code == 0
    assert out.startswith("built-in defaults: valid")


def test_json_format_prints_exactly_one_document(tmp_path: Path) -> None:
    code, out, _ = run(["--format", "json", "config", "check"], tmp_path)
    assert code == 0
    assert json.loads(out)["ok"] is True


def test_invalid_config_exits_2_with_the_message_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text("verify:\n  tls:\n    min_days: fourteen\n")
    code, out, err = run(["--format", "json", "config", "check"], tmp_path)
    assert code == 2
    assert 'ops.yml: verify.tls.min_days: expected an integer, found "fourteen"' in err
    # Still exactly one JSON document on stdout, saying why.
    doc = json.loads(out)
    assert doc["ok"] is False
    assert doc["error"]["type"] == "ConfigError" and doc["error"]["exit_code"] == 2
    assert "verify.tls.min_days" in doc["error"]["message"] and "14" in doc["error"]["hint"]


def test_usage_error_under_json_is_a_json_document(tmp_path: Path) -> None:
    code, out, _ = run(["--format", "json", "no-such-command"], tmp_path)
    assert code == 2
    assert json.loads(out)["error"]["exit_code"] == 2


def test_an_unexpected_exception_is_reported_without_a_traceback(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import aikinklab_ops.commands.config_cmd as config_cmd

    def broken(args, ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"boom with {TOKEN}")

    monkeypatch.setattr(config_cmd, "run_check", broken)
    code, out, err = run(["--format", "json", "config", "check"], tmp_path, {"VERCEL_TOKEN": TOKEN})
    assert code == 1
    assert "Traceback" not in err and "this is a bug" in err
    assert TOKEN not in out + err
    assert json.loads(out)["error"]["type"] == "RuntimeError"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(["no-such-command"], tmp_path)[0] == 2
    assert run([], tmp_path)[0] == 2
    assert run(["--format", "yaml", "config", "check"], tmp_path)[0] == 2


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text("project:\n  repository: ${REPO_TOKEN}\n")
    env = {"REPO_TOKEN": "very-secret-repo-token", "VERCEL_TOKEN": TOKEN}
    code, out, err = run(["config", "show"], tmp_path, env)
    assert code == 0
    assert "very-secret-repo-token" not in out + err
    assert "repository: '***'" in out


def test_github_format_masks_first_then_writes_outputs_and_summary(tmp_path: Path) -> None:
    outputs, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "VERCEL_TOKEN": TOKEN,
        "GITHUB_TOKEN": GH_TOKEN,
    }
    code, out, err = run(["--report-file", str(tmp_path / "r.json"), "config", "check"], tmp_path, env)
    assert code == 0
    first_lines = out.splitlines()[:2]
    assert sorted(first_lines) == sorted([f"::add-mask::{TOKEN}", f"::add-mask::{GH_TOKEN}"])
    rest = "\n".join(out.splitlines()[2:]) + err + outputs.read_text()
    assert TOKEN not in rest and GH_TOKEN not in rest
    written = outputs.read_text()
    assert re.search(r"^source<<ghadelimiter_[0-9a-f]{32}\nbuilt-in defaults\nghadelimiter_", written, re.M)
    assert "report<<" in written
    assert json.loads((tmp_path / "r.json").read_text())["ok"] is True


def test_output_delimiter_never_occurs_in_the_value() -> None:
    text = format_outputs({"body": "line1\nghadelimiter_fake\nline3"})
    name, rest = text.split("<<", 1)
    delimiter = rest.split("\n", 1)[0]
    assert name == "body"
    assert text.endswith(f"\n{delimiter}\n")
    assert text.count(delimiter) == 2


def test_installed_command_and_module_entry_point(tmp_path: Path) -> None:
    for argv in (["aikinklab-ops", "--version"], [sys.executable, "-m", "aikinklab_ops", "--version"]):
        done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"aikinklab-ops {__version__}"
