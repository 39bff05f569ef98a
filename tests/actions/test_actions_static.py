"""Rules every composite action keeps, read from the files themselves.

These are the properties a caller's security and a reviewer's reading depend on: no expression
expanded inside a shell script, third-party code pinned by commit, one install recipe shared by
all actions, and a hash-pinned requirement file that really covers the package's dependencies.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml
from actions_runner import REPO, action_files, load_action, parse_env_file
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ACTIONS = action_files()
IDS = [str(p.relative_to(REPO)) for p in ACTIONS]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
PINNED_USES = re.compile(r"^\s*(?:-\s*)?uses:\s*([^\s#]+)\s*(#.*)?$")


def steps(path: Path) -> list[dict[str, Any]]:
    return list(load_action(path)["runs"]["steps"])


def test_every_action_is_found() -> None:
    names = {p.parent.name for p in ACTIONS[1:]}
    assert ACTIONS[0].is_file()
    expected = {"gate", "deploy", "promote", "rollback", "verify", "backup", "restore", "monitor", "incident"}
    assert expected <= names


@pytest.mark.parametrize("path", ACTIONS, ids=IDS)
def test_no_expression_is_expanded_inside_a_run_script(path: Path) -> None:
    for step in steps(path):
        if "run" in step:
            assert "${{" not in step["run"], f'{step.get("name")}: pass the value through env: and read "$VAR"'


@pytest.mark.parametrize("path", ACTIONS, ids=IDS)
def test_every_input_goes_through_env_and_every_reference_is_declared(path: Path) -> None:
    spec = load_action(path)
    declared = set(spec.get("inputs") or {})
    used: set[str] = set()
    for step in spec["runs"]["steps"]:
        for value in [*(step.get("env") or {}).values(), step.get("if", "")]:
            used.update(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", str(value)))
        for value in (step.get("with") or {}).values():
            assert "inputs." not in str(value), "inputs reach the CLI through env:, not through other actions"
    assert used == declared, f"declared but unused: {declared - used}; used but undeclared: {used - declared}"


def cli_steps(path: Path) -> list[dict[str, Any]]:
    return [s for s in steps(path) if '"$AIKINKLAB_OPS"' in s.get("run", "")]


@pytest.mark.parametrize("path", ACTIONS, ids=IDS)
def test_outputs_come_from_the_one_cli_call_and_include_the_report(path: Path) -> None:
    spec = load_action(path)
    outputs = spec.get("outputs") or {}
    assert "report" in outputs, "every action exposes the JSON report's path"
    for name, meta in outputs.items():
        assert meta.get("description"), f"output {name} needs a description"
        assert meta["value"] == f"${{{{ steps.run.outputs.{name} }}}}", f"output {name} must be the CLI's own output"
    calls = cli_steps(path)
    assert calls[0].get("id") == "run" and "if" not in calls[0], "the action's command runs unconditionally"
    assert "--report-file" in calls[0]["run"]
    for step in calls:
        assert step["run"].count('"$AIKINKLAB_OPS"') == 1, "one CLI command per step"
    for step in calls[1:]:
        assert re.fullmatch(r"\$\{\{ inputs\.[a-z-]+ == 'true' \}\}", step.get("if", "")), "a follow-up is opt-in"


@pytest.mark.parametrize("path", ACTIONS, ids=IDS)
def test_every_input_becoming_an_argument_is_refused_when_it_looks_like_an_option(path: Path) -> None:
    for step in cli_steps(path):
        script = step["run"]
        for var in step["env"]:
            if var.startswith("INPUT_") and re.search(rf'args\+=\([^)]*"\${var}"', script):
                assert re.search(rf'refuse_option [a-z-]+ "\${var}"', script), f"{var} reaches argv unchecked"


def _setup_steps(path: Path) -> list[dict[str, Any]]:
    """The install steps, with the one thing allowed to differ (where the package sits relative
    to the action) normalised away."""
    text = path.read_text(encoding="utf-8").replace("${{ github.action_path }}/../..", "${{ github.action_path }}")
    return list(yaml.safe_load(text)["runs"]["steps"][:4])


def test_every_action_installs_the_same_way() -> None:
    reference = _setup_steps(ACTIONS[0])
    assert [s.get("id") for s in reference] == ["python", "requirements", "pip-cache", "install"]
    for path in ACTIONS[1:]:
        assert _setup_steps(path) == reference, f"{path.relative_to(REPO)} installs differently from action.yml"


def test_the_install_is_hash_pinned_into_a_private_venv() -> None:
    install = next(s for s in steps(ACTIONS[0]) if s.get("id") == "install")["run"]
    assert '-m venv "$venv"' in install
    assert '--require-hashes --only-binary :all: -r "$REQUIREMENTS"' in install, "wheels only: no setup.py runs"
    assert '--no-deps --no-build-isolation "$PACKAGE_DIR"' in install
    for path in ACTIONS:
        package_dir = next(s for s in steps(path) if s.get("id") == "install")["env"]["PACKAGE_DIR"]
        resolved = Path(package_dir.replace("${{ github.action_path }}", str(path.parent))).resolve()
        assert resolved == REPO, f"{path.relative_to(REPO)} installs from {resolved}, not the repository root"


def _uses_lines() -> list[tuple[Path, str, str]]:
    found = []
    for path in [*ACTIONS, *WORKFLOWS]:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = PINNED_USES.match(line)
            if match:
                found.append((path, match.group(1), match.group(2) or ""))
    return found


def test_third_party_actions_are_pinned_by_commit_with_the_version_in_a_comment() -> None:
    uses = _uses_lines()
    assert uses
    for path, ref, comment in uses:
        if ref.startswith(("./", "$/")):  # this repository at the running commit
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned by commit"
        assert re.fullmatch(r"#\s*v\d+(\.\d+)*", comment.strip()), f"{path.name}: {ref} needs '# vX.Y.Z'"


def test_one_version_of_each_third_party_action_is_used_everywhere() -> None:
    versions: dict[str, set[str]] = {}
    for _path, ref, _comment in _uses_lines():
        if not ref.startswith(("./", "$/")):
            name, sha = ref.split("@")
            versions.setdefault(name, set()).add(sha)
    assert {name: shas for name, shas in versions.items() if len(shas) > 1} == {}


# The pinned requirement file ----------------------------------------------------------------

REQUIREMENTS = REPO / "requirements" / "action.txt"


def _pins() -> dict[str, list[str]]:
    """name -> the pinned versions (one per environment marker) of requirements/action.txt."""
    pins: dict[str, list[str]] = {}
    logical = re.sub(r"\\\n", " ", REQUIREMENTS.read_text(encoding="utf-8"))
    for line in logical.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        spec, _, hashes = line.partition(" --hash")
        req = Requirement(spec.strip())
        assert hashes, f"{req.name} has no --hash"
        assert len(req.specifier) == 1 and next(iter(req.specifier)).operator == "==", f"{req.name} is not pinned"
        assert all(h.startswith("=sha256:") for h in ("--hash" + hashes).split("--hash")[1:]), req.name
        pins.setdefault(canonicalize_name(req.name), []).append(str(next(iter(req.specifier)).version))
    return pins


def test_the_requirement_file_pins_every_runtime_dependency_of_the_package() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = _pins()
    for dependency in project["dependencies"]:
        req = Requirement(dependency)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a dependency but requirements/action.txt does not pin it (regenerate it)"
        for version in pins[name]:
            assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} breaks {req.specifier}"


def test_the_requirement_file_pins_the_build_backend_the_install_uses_without_isolation() -> None:
    backend = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    pins = _pins()
    for dependency in backend:
        req = Requirement(dependency)
        assert canonicalize_name(req.name) in pins, f"{req.name} builds the package but is not pinned"


def test_output_files_are_parsed_like_a_runner() -> None:
    text = "ok=true\nreport<<ghadelimiter_1\nline 1\nline=2\nghadelimiter_1\n"
    assert parse_env_file(text) == {"ok": "true", "report": "line 1\nline=2"}


@pytest.mark.parametrize("path", ACTIONS, ids=IDS)
def test_docs_list_every_input_and_output_of_the_action(path: Path) -> None:
    docs = (REPO / "docs" / "actions.md").read_text(encoding="utf-8")
    title = "### root `action.yml`" if path == ACTIONS[0] else f"### `{path.parent.relative_to(REPO)}`"
    assert title in docs, f"docs/actions.md has no section {title!r}"
    section = docs.split(title, 1)[1].split("\n### ", 1)[0]
    spec = load_action(path)
    for kind in ("inputs", "outputs"):
        for name in spec.get(kind) or {}:
            assert f"| `{name}` |" in section, f"docs/actions.md does not describe the {kind[:-1]} {name!r} of {title}"


@pytest.mark.parametrize("path", ACTIONS, ids=IDS)
def test_every_run_script_passes_shellcheck(path: Path, tmp_path: Path) -> None:
    """Quoting mistakes in these few lines would turn an input into several arguments."""
    shellcheck = Path(sysconfig.get_path("scripts")) / "shellcheck"
    for index, step in enumerate(steps(path)):
        if "run" not in step:
            continue
        script = tmp_path / f"step{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        proc = subprocess.run(
            [str(shellcheck), "--shell=bash", "--severity=style", str(script)], capture_output=True, text=True
        )
        assert proc.returncode == 0, f"{step.get('name')}:\n{proc.stdout}{proc.stderr}"
