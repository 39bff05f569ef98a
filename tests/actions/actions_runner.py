"""A small stand-in for the Actions runner, enough to run our composite actions as written.

It parses an ``action.yml``, evaluates ``${{ ... }}`` only where a runner does (``env:``,
``with:``, ``if:`` and the ``outputs:`` values), and runs each ``run:`` script with
``bash --noprofile --norc -eo pipefail`` -- the command GitHub uses for ``shell: bash`` -- with the
files and variables a runner provides (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_ENV``,
``GITHUB_ACTION_PATH``, ``RUNNER_TEMP``, ``GITHUB_ACTIONS=true``).

The only ``uses:`` steps our actions have are ``actions/setup-python`` and ``actions/cache``.
Instead of downloading an interpreter, setup-python's ``python-path`` output points at a stand-in
``python`` that makes a venv whose ``aikinklab-ops`` runs this checkout with the current
interpreter, and that records each ``pip install`` instead of reaching PyPI (tests stay offline).
Everything after it -- the requirement file's location, the venv path, the CLI call, the output
files -- is the action's own code, run for real.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_DOTTED = re.compile(rf"{_NAME}(?:\.{_NAME})*")
_COMPARISON = re.compile(rf"({_NAME}(?:\.{_NAME})*)\s*(==|!=)\s*'([^']*)'")


def action_files() -> list[Path]:
    return [REPO / "action.yml", *sorted(REPO.glob("actions/*/action.yml"))]


def load_action(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


class UnsupportedExpression(Exception):
    """An expression our actions should not need; keeping them simple keeps them reviewable."""


class Evaluator:
    """Dotted context look-ups (``inputs.url``, ``steps.run.outputs.ok``) and ``==``/``!=`` against
    a string literal; a missing property is ``''``, as on a runner."""

    def __init__(self, contexts: Mapping[str, Any]) -> None:
        self.contexts = contexts

    def lookup(self, dotted: str) -> str:
        value: Any = self.contexts
        for part in dotted.split("."):
            if not isinstance(value, Mapping):
                return ""
            value = value.get(part, "")
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    def evaluate(self, expr: str) -> str:
        expr = expr.strip()
        if _DOTTED.fullmatch(expr):
            return self.lookup(expr)
        match = _COMPARISON.fullmatch(expr)
        if match:
            left, op, right = match.groups()
            equal = self.lookup(left).lower() == right.lower()
            return "true" if equal == (op == "==") else "false"
        raise UnsupportedExpression(expr)

    def substitute(self, text: Any) -> str:
        if isinstance(text, bool):
            return "true" if text else "false"
        return EXPRESSION.sub(lambda m: self.evaluate(m.group(1)), str(text))

    def condition(self, text: Any) -> bool:
        inner = EXPRESSION.fullmatch(str(text).strip())
        value = self.evaluate(inner.group(1) if inner else str(text))
        return value not in ("", "false", "0")


def parse_env_file(text: str) -> dict[str, str]:
    """The ``$GITHUB_OUTPUT``/``$GITHUB_ENV`` file format: ``name=value`` or heredoc blocks."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


@dataclass
class StepRun:
    id: str
    skipped: bool = False
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    env_file: str = ""


@dataclass
class ActionRun:
    steps: list[StepRun]
    outputs: dict[str, str]
    summary: str
    pip_calls: list[list[str]]
    runner_temp: Path

    @property
    def ok(self) -> bool:
        return all(s.returncode == 0 for s in self.steps)

    @property
    def log(self) -> str:
        """Everything the steps printed, as a runner's log would show it."""
        return "".join(s.stdout + s.stderr for s in self.steps)

    def step(self, step_id: str) -> StepRun:
        return next(s for s in self.steps if s.id == step_id)


_PYTHON_SHIM = """#!{python}
# Stand-in for the interpreter actions/setup-python would install (see tests/actions/actions_runner.py).
import json, pathlib, stat, sys

argv = sys.argv[1:]
if argv[:2] == ["-m", "venv"] and len(argv) == 3:
    bindir = pathlib.Path(argv[2]) / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    files = {{
        bindir / "python": pathlib.Path(__file__).read_text(),
        bindir / "aikinklab-ops": "#!/bin/sh\\nPYTHONPATH={repo} exec {python} -m aikinklab_ops \\"$@\\"\\n",
    }}
    for path, text in files.items():
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
elif argv[:3] == ["-m", "pip", "install"]:
    with open({log!r}, "a") as fh:
        fh.write(json.dumps(argv[3:]) + "\\n")
else:
    sys.exit("python stand-in: unexpected arguments " + repr(argv))
"""


class ActionRunner:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.workspace = tmp / "workspace"
        self.workspace.mkdir()
        self.pip_log = tmp / "pip-calls.jsonl"
        self.python = tmp / "toolcache" / "python3"
        self.python.parent.mkdir()
        self.python.write_text(
            _PYTHON_SHIM.format(python=sys.executable, repo=shlex.quote(str(REPO)), log=str(self.pip_log))
        )
        self.python.chmod(0o755)
        self._runs = 0

    def uses(self, ref: str, with_: Mapping[str, str], runner_temp: Path) -> dict[str, str]:
        name = ref.split("@", 1)[0]
        if name == "actions/setup-python":
            assert with_.get("update-environment") == "false", "setup-python must not change the caller's PATH"
            return {"python-path": str(self.python), "python-version": "3.12.7", "cache-hit": "false"}
        if name == "actions/cache":
            assert with_.get("key"), "a cache needs a key"
            assert str(runner_temp) in with_.get("path", ""), "the pip cache lives in RUNNER_TEMP"
            return {"cache-hit": "false"}
        raise AssertionError(f"the test runner does not know the action {ref!r}")

    def run(
        self,
        action: str | Path,
        inputs: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> ActionRun:
        path = REPO / action if not Path(action).is_absolute() else Path(action)
        if path.is_dir():
            path = path / "action.yml"
        spec = load_action(path)
        self._runs += 1
        run_dir = self.tmp / f"run{self._runs}"
        runner_temp = run_dir / "runner-temp"
        runner_temp.mkdir(parents=True)
        summary_parts: list[str] = []
        given = dict(inputs or {})
        unknown = set(given) - set(spec.get("inputs") or {})
        assert not unknown, f"{path} has no inputs {sorted(unknown)}"
        input_values = {
            name: given.get(name, str((meta or {}).get("default", "")))
            for name, meta in (spec.get("inputs") or {}).items()
        }
        steps_ctx: dict[str, Any] = {}
        contexts = {
            "inputs": input_values,
            "steps": steps_ctx,
            "github": {"action_path": str(path.parent), "workspace": str(self.workspace)},
            "runner": {"temp": str(runner_temp), "os": "Linux"},
        }
        evaluator = Evaluator(contexts)
        base_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.tmp / "home"),
            "LANG": "C.UTF-8",
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": str(path.parent),
            "RUNNER_TEMP": str(runner_temp),
            "RUNNER_OS": "Linux",
            **(env or {}),
        }
        results: list[StepRun] = []
        failed = False
        for index, step in enumerate(spec["runs"]["steps"]):
            step_id = str(step.get("id") or f"__step{index}")
            condition = step.get("if")
            # Like a runner: after a failure only steps with their own ``if:`` run.
            runs = evaluator.condition(condition) if condition is not None else not failed
            if not runs:
                results.append(StepRun(step_id, skipped=True))
                continue
            if "uses" in step:
                with_ = {k: evaluator.substitute(v) for k, v in (step.get("with") or {}).items()}
                outputs = self.uses(step["uses"], with_, runner_temp)
                result = StepRun(step_id, outputs=outputs)
            else:
                result = self._run_script(step, step_id, evaluator, base_env, run_dir / f"step{index}", timeout)
            steps_ctx[step_id] = {
                "outputs": result.outputs,
                "outcome": "success" if result.returncode == 0 else "failure",
            }
            results.append(result)
            failed = failed or result.returncode != 0
            summary_file = run_dir / f"step{index}" / "summary.md"
            if summary_file.exists():
                summary_parts.append(summary_file.read_text(encoding="utf-8"))
        outputs = {name: evaluator.substitute(meta["value"]) for name, meta in (spec.get("outputs") or {}).items()}
        pip_calls = []
        if self.pip_log.exists():
            pip_calls = [json.loads(line) for line in self.pip_log.read_text().splitlines()]
            self.pip_log.unlink()
        return ActionRun(results, outputs, "".join(summary_parts), pip_calls, runner_temp)

    def _run_script(
        self,
        step: Mapping[str, Any],
        step_id: str,
        evaluator: Evaluator,
        base_env: Mapping[str, str],
        step_dir: Path,
        timeout: float,
    ) -> StepRun:
        assert step.get("shell") == "bash", f"step {step_id} must say shell: bash"
        assert "working-directory" not in step, "our actions run in the caller's workspace"
        step_dir.mkdir(parents=True)
        files = {name: step_dir / name for name in ("output.txt", "env.txt", "summary.md")}
        for file in files.values():
            file.touch()
        script = step_dir / "script.sh"
        script.write_text(step["run"], encoding="utf-8")
        env = dict(base_env)
        env.update({k: evaluator.substitute(v) for k, v in (step.get("env") or {}).items()})
        env.update(
            GITHUB_OUTPUT=str(files["output.txt"]),
            GITHUB_ENV=str(files["env.txt"]),
            GITHUB_STEP_SUMMARY=str(files["summary.md"]),
        )
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return StepRun(
            step_id,
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            outputs=parse_env_file(files["output.txt"].read_text(encoding="utf-8")),
            env_file=files["env.txt"].read_text(encoding="utf-8"),
        )


# Helpers the action tests share ------------------------------------------------------------

SITE = REPO / "aikinklab_ops" / "examples" / "site"


def declared_outputs(action: str) -> set[str]:
    return set(load_action(REPO / action / "action.yml").get("outputs") or {})


def assert_outputs_written(run: ActionRun, action: str, names: set[str] | None = None) -> None:
    """The action's outputs (all declared ones unless ``names`` narrows them) arrived in
    GITHUB_OUTPUT from the CLI step, and the action exposes exactly those values."""
    written = run.step("run").outputs
    expected = declared_outputs(action) if names is None else names
    missing = expected - set(written)
    assert not missing, f"{action} declares outputs the CLI did not write: {sorted(missing)}"
    assert {name: run.outputs[name] for name in expected} == {name: written[name] for name in expected}


def read_report(run: ActionRun) -> dict[str, Any]:
    path = Path(run.outputs["report"])
    assert path.is_relative_to(run.runner_temp), "the report lives in RUNNER_TEMP"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def make_git_repo(path: Path) -> None:
    """A one-commit repository, what ``backup`` needs in the workspace."""
    env = {"GIT_AUTHOR_NAME": "ops", "GIT_AUTHOR_EMAIL": "ops@example.com", "GIT_COMMITTER_NAME": "ops"}
    env |= {"GIT_COMMITTER_EMAIL": "ops@example.com", "PATH": "/usr/bin:/bin", "HOME": str(path)}
    (path / "app.js").write_text("console.log('aikinklab')\n")
    for cmd in (["init", "-q", "-b", "main"], ["add", "app.js"], ["commit", "-q", "-m", "app"]):
        subprocess.run(["git", *cmd], cwd=path, env=env, check=True)
