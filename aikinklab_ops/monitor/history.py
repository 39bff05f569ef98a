"""The JSON-lines probe history: figures accumulate across scheduled runs.

A scheduled job keeps the file between runs (an Actions cache or artifact), so the SLA figures
cover weeks, not one five-minute window. Lines older than the window are pruned on every run;
a line that does not parse (a run killed mid-write, a hand edit) is skipped with a warning that
names its line number: losing one probe is better than a monitor that stops monitoring.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aikinklab_ops.errors import InputError
from aikinklab_ops.monitor.probe import Probe


@dataclass(frozen=True)
class Loaded:
    probes: tuple[Probe, ...]
    warnings: tuple[str, ...]
    pruned: int


def load(path: Path, *, since: datetime) -> Loaded:
    """Every probe at or after ``since``; corrupt lines become warnings."""
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return Loaded((), (), 0)
    except OSError as err:
        raise InputError(
            f"{path}: cannot read the monitor history: {err.strerror}",
            hint="check monitor.history / --history and the file's permissions",
        ) from err
    probes: list[Probe] = []
    warnings: list[str] = []
    pruned = 0
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise TypeError("not an object")
            probe = Probe.from_dict(data)
        except (ValueError, KeyError, TypeError) as err:
            warnings.append(f"{path.name}:{number}: skipped a line that is not a probe record ({err})")
            continue
        if probe.t < since:
            pruned += 1
            continue
        probes.append(probe)
    return Loaded(tuple(probes), tuple(warnings), pruned)


def save(path: Path, probes: Iterable[Probe]) -> None:
    """Rewrite the history with ``probes`` (atomically: a crash leaves the old file whole)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for probe in probes:
                fh.write(json.dumps(probe.to_dict(), ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except OSError as err:
        raise InputError(
            f"{path}: cannot write the monitor history: {err.strerror}",
            hint="check that the folder of monitor.history is writable",
        ) from err


def append(path: Path, probes: Iterable[Probe]) -> None:
    """Add one round's probes to the end of the file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(probe.to_dict(), ensure_ascii=False) + "\n" for probe in probes)
        with open(path, "a+b") as fh:
            # A file that does not end in a newline (a hand edit, another tool) would glue this
            # round's first record onto its last one, and both would be lost.
            if fh.seek(0, os.SEEK_END) > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    lines = "\n" + lines
            fh.write(lines.encode("utf-8"))
    except OSError as err:
        raise InputError(
            f"{path}: cannot append to the monitor history: {err.strerror}",
            hint="check that the folder of monitor.history is writable",
        ) from err
