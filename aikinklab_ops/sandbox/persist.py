"""The sandbox's memory on disk (``<state-dir>/state.json``), so a restart keeps what was deployed.

Rehearsing a release means deploying, stopping, coming back and rolling back; without this a
restarted sandbox would know the uploaded files but none of the deployments made of them. Ports
are not kept: every served deployment and alias gets a fresh one on load.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from aikinklab_ops.errors import InputError
from aikinklab_ops.sandbox.model import Alias, AliasJob, Deployment, EnvVar, Project

STATE_FILE = "state.json"
VERSION = 1


def dump(projects: list[Project], deployments: list[Deployment], aliases: list[Alias], last_ms: int) -> dict[str, Any]:
    deps = []
    for dep in deployments:
        data = asdict(dep)
        data["folder"] = str(dep.folder) if dep.folder is not None else None
        data["sandbox_url"] = None
        deps.append(data)
    return {
        "version": VERSION,
        "last_ms": last_ms,
        "projects": [asdict(p) for p in projects],
        "deployments": deps,
        "aliases": [asdict(a) for a in aliases],
    }


def save(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


def load(path: Path) -> tuple[list[Project], list[Deployment], list[Alias], int]:
    """What ``save`` wrote; a file this version cannot read is refused with the way out."""
    hint = f"delete {path} to start the sandbox afresh (uploaded files are kept)"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the sandbox state: {err}", hint=hint) from err
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise InputError(f"{path}: not a version {VERSION} sandbox state file", hint=hint)
    try:
        projects = [_project(p) for p in data["projects"]]
        deployments = [_deployment(d) for d in data["deployments"]]
        aliases = [Alias(**a) for a in data["aliases"]]
        last_ms = int(data["last_ms"])
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: the sandbox state is damaged: {err}", hint=hint) from err
    return projects, deployments, aliases, last_ms


def _project(data: dict[str, Any]) -> Project:
    data = dict(data)
    data["env"] = [
        EnvVar(**{**e, "target": tuple(e["target"]), "custom_environment_ids": tuple(e["custom_environment_ids"])})
        for e in data["env"]
    ]
    data["job"] = AliasJob(**data["job"]) if data.get("job") else None
    return Project(**_known(Project, data))


def _deployment(data: dict[str, Any]) -> Deployment:
    data = dict(data)
    data["folder"] = Path(data["folder"]) if data.get("folder") else None
    return Deployment(**_known(Deployment, data))


def _known(cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}
