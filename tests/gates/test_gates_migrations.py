"""The migrations gate: skipped without a database; otherwise the status command decides."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aikinklab_ops.config import load_config
from aikinklab_ops.gates import GateInputs, run_gates
from aikinklab_ops.report import CheckResult, Status


def gate(tmp_path: Path, write_config, command: list[str] | None, timeout_s: float = 20) -> CheckResult:
    if command is None:
        cfg = load_config(None, env={}, cwd=tmp_path)
    else:
        settings = {"applicable": True, "command": command, "timeout_s": timeout_s}
        cfg = write_config(f"gates:\n  migrations: {json.dumps(settings)}\n")
    return run_gates(cfg, GateInputs(cwd=tmp_path), only=["migrations"]).check("migrations")


def test_no_database_is_a_skip_with_the_reason(tmp_path: Path, write_config) -> None:
    result = gate(tmp_path, write_config, None)
    assert (result.status, result.summary) == (
        Status.SKIP,
        "not applicable: no database (gates.migrations.applicable is false)",
    )


def test_exit_zero_passes(tmp_path: Path, write_config) -> None:
    result = gate(tmp_path, write_config, [sys.executable, "-c", "print('Database schema is up to date!')"])
    assert result.status is Status.PASS
    assert result.details["output_tail"] == ["Database schema is up to date!"]


def test_pending_migrations_fail_with_the_output_tail(tmp_path: Path, write_config) -> None:
    script = "import sys; print('1 migration found'); print('Following migration have not yet been applied: 2026_add_users'); sys.exit(1)"  # noqa: E501
    result = gate(tmp_path, write_config, [sys.executable, "-c", script])
    assert result.status is Status.FAIL
    assert result.summary.endswith("exited 1: Following migration have not yet been applied: 2026_add_users")


def test_missing_command_is_an_error(tmp_path: Path, write_config) -> None:
    result = gate(tmp_path, write_config, ["definitely-not-a-migration-tool-xyz", "status"])
    assert result.status is Status.ERROR
    assert "migration status command not found: definitely-not-a-migration-tool-xyz" in result.summary


def test_timeout_fails(tmp_path: Path, write_config) -> None:
    result = gate(tmp_path, write_config, [sys.executable, "-c", "import time; time.sleep(5)"], timeout_s=0.5)
    assert result.status is Status.FAIL
    assert "did not finish within 0.5s" in result.summary


def test_applicable_without_command_is_a_config_error(tmp_path: Path, write_config) -> None:
    cfg = write_config("gates:\n  migrations:\n    applicable: true\n")
    result = run_gates(cfg, GateInputs(cwd=tmp_path), only=["migrations"]).check("migrations")
    assert result.status is Status.ERROR
    assert "gates.migrations.command: empty while applicable is true" in result.summary
