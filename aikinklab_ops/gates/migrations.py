"""Gate ``migrations``: the database schema is ready for the code about to ship.

Today's AIKinkLab has no database, so the default is ``applicable: false`` and the gate says so
as ``skip``. Once one exists, the migration tool's own status command decides (``npx prisma
migrate status`` exits non-zero while migrations are pending). It runs without a shell, with a
timeout; a command that cannot be found is an ``error`` — a gate that cannot look must not pass.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from aikinklab_ops.errors import ConfigError, InputError
from aikinklab_ops.gates.base import GateContext
from aikinklab_ops.report import CheckResult, Status

NAME = "migrations"
LABEL = "Database migrations ready"
_TAIL_LINES = 20


def _tail(text: str | bytes | None) -> list[str]:
    if text is None:
        return []
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [line for line in text.splitlines() if line.strip()][-_TAIL_LINES:]


def run_status_command(command: Sequence[str], timeout_s: float, cwd: Path) -> CheckResult:
    argv = list(command)
    shown = " ".join(argv)
    if not cwd.is_dir():  # else the FileNotFoundError below would blame the command
        raise InputError(
            f"gates.migrations.cwd {cwd} is not a folder",
            hint="fix gates.migrations.cwd (relative to the config's folder)",
        )
    try:
        proc = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL, check=False
        )
    except FileNotFoundError as err:
        raise InputError(
            f"migration status command not found: {argv[0]}",
            hint="install it in this job (e.g. `npm ci` for npx prisma) or fix gates.migrations.command",
        ) from err
    except NotADirectoryError as err:
        raise InputError(f"gates.migrations.cwd {cwd} is not a folder") from err
    except PermissionError as err:
        raise InputError(f"migration status command {argv[0]} is not executable: {err}") from err
    except subprocess.TimeoutExpired as err:
        return CheckResult(
            NAME,
            Status.FAIL,
            f"`{shown}` did not finish within {timeout_s:g}s",
            {"command": argv, "timeout_s": timeout_s, "output_tail": _tail(err.stdout) + _tail(err.stderr)},
            label=LABEL,
        )
    tail = _tail(proc.stdout) + _tail(proc.stderr)
    details = {"command": argv, "exit_code": proc.returncode, "output_tail": tail}
    if proc.returncode == 0:
        return CheckResult(NAME, Status.PASS, f"`{shown}` reports the schema up to date", details, label=LABEL)
    last = (tail or ["(no output)"])[-1]
    return CheckResult(NAME, Status.FAIL, f"`{shown}` exited {proc.returncode}: {last[:200]}", details, label=LABEL)


def run(ctx: GateContext) -> CheckResult:
    s = ctx.settings
    if not s.migrations_applicable:
        return CheckResult(
            NAME, Status.SKIP, "not applicable: no database (gates.migrations.applicable is false)", label=LABEL
        )
    if not s.migrations_command:
        raise ConfigError(
            f"{s.where}: gates.migrations.command: empty while applicable is true",
            hint='write command: ["npx", "prisma", "migrate", "status"]',
        )
    return run_status_command(s.migrations_command, s.migrations_timeout_s, s.migrations_cwd)
