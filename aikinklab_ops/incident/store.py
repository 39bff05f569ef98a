"""Where incidents live: a GitHub issue each, or a markdown file each when there is no GitHub.

Both keep the same two hidden lines at the top of the body: the marker that makes one incident
key one record (a rerun finds it instead of filing a duplicate) and the incident's state as JSON
(severity, when it opened, when stakeholders last heard), so the next run can compute the
duration and honour the update cadence without any other database.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from aikinklab_ops.errors import InputError
from aikinklab_ops.github.issues import IssueRef, IssueTracker
from aikinklab_ops.incident.severity import Severity

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# \r?: GitHub hands back a body edited in its web editor with \r\n line endings.
_STATE = re.compile(r"^<!-- aikinklab-ops state: (\{.*\}) -->\r?$", re.M)
_TIMELINE = "<!-- aikinklab-ops timeline -->"
LABEL_COLORS = {
    "P0": ("b60205", "Incident severity P0: site down, breach or data loss (respond < 15 min)"),
    "P1": ("d93f0b", "Incident severity P1: feature unavailable or > 50% slower (respond < 1 h)"),
    "P2": ("fbca04", "Incident severity P2: < 50% slower or minor (respond < 4 h)"),
    "P3": ("c5def5", "Incident severity P3: cosmetic (respond < 24 h)"),
}
INCIDENT_LABEL = ("b60205", "A production incident managed by aikinklab-ops")


# GitHub refuses longer issue titles with 422 ("title is too long (maximum is 256 characters)").
ISSUE_TITLE_MAX = 256


def issue_title(severity: Severity, title: str) -> str:
    text = f"[{severity.value}] {title}"
    return text if len(text) <= ISSUE_TITLE_MAX else text[: ISSUE_TITLE_MAX - 1] + "…"


def marker(key: str) -> str:
    return f"<!-- aikinklab-ops incident: {key} -->"


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key or ""):
        raise InputError(
            f"incident key {key!r} is not usable",
            hint="use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(e.g. monitor-www.aikinklab.com)",
        )
    return key


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(timezone.utc).isoformat(timespec="seconds") if when else None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class IncidentState:
    key: str
    title: str
    severity: Severity
    opened_at: datetime
    last_alert_at: datetime
    status: str = "open"  # or "resolved"
    current: str = ""  # the latest status line ("Investigating", ...)
    impact: str = ""
    resolved_at: datetime | None = None

    def to_json(self) -> str:
        data = {
            "key": self.key,
            "title": self.title,
            "severity": self.severity.value,
            "status": self.status,
            "opened_at": _iso(self.opened_at),
            "last_alert_at": _iso(self.last_alert_at),
            "resolved_at": _iso(self.resolved_at),
            "current": self.current,
            "impact": self.impact,
        }
        # "-->" inside the JSON would end the comment early; JSON allows escaping ">".
        return json.dumps(data, ensure_ascii=False).replace(">", "\\u003e")

    @classmethod
    def from_body(
        cls, body: str, *, key: str, title: str, fallback_severity: Severity | None, fallback_opened: datetime | None
    ) -> IncidentState | None:
        data: dict[str, Any] = {}
        m = _STATE.search(body)
        if m:
            try:
                loaded = json.loads(m.group(1))
                data = loaded if isinstance(loaded, dict) else {}
            except json.JSONDecodeError:
                data = {}
        try:
            severity = Severity(str(data.get("severity"))) if data.get("severity") else fallback_severity
        except ValueError:
            severity = fallback_severity
        opened = _parse_time(data.get("opened_at")) or fallback_opened
        if severity is None or opened is None:
            return None
        stored_title = data.get("title")
        return cls(
            key=key,
            title=stored_title if isinstance(stored_title, str) and stored_title else title,
            severity=severity,
            opened_at=opened,
            last_alert_at=_parse_time(data.get("last_alert_at")) or opened,
            status=str(data.get("status") or "open"),
            resolved_at=_parse_time(data.get("resolved_at")),
            current=str(data.get("current") or ""),
            impact=str(data.get("impact") or ""),
        )


def compose_body(state: IncidentState, text: str, *, footer: str = "") -> str:
    head = f"{marker(state.key)}\n<!-- aikinklab-ops state: {state.to_json()} -->\n\n{text.rstrip()}\n"
    return head + (f"\n{footer.rstrip()}\n" if footer else "")


@dataclass(frozen=True)
class Record:
    state: IncidentState
    location: str  # the issue's URL or the file's path
    number: int | None = None


class IncidentStore(Protocol):
    kind: str

    def find(self, key: str) -> Record | None: ...
    def create(self, state: IncidentState, text: str) -> Record: ...
    def update(
        self, record: Record, state: IncidentState, text: str, *, comment: str | None, close: bool = False
    ) -> Record: ...


_FOOTER = (
    "_Managed by aikinklab-ops: updates arrive as comments; `aikinklab-ops incident resolve --key {key}` "
    "closes this issue._"
)


class GitHubStore:
    kind = "github"

    def __init__(self, tracker: IssueTracker, labels: tuple[str, ...], assignees: tuple[str, ...] = ()) -> None:
        self.tracker = tracker
        self.labels = labels
        self.assignees = assignees

    def _record(self, ref: IssueRef, key: str) -> Record | None:
        sev = next((Severity(x) for x in ref.labels if x in LABEL_COLORS), None)
        state = IncidentState.from_body(
            ref.body, key=key, title=ref.title, fallback_severity=sev, fallback_opened=ref.created_at
        )
        return Record(state, ref.url, ref.number) if state else None

    def find(self, key: str) -> Record | None:
        ref = self.tracker.find_open(marker(key), self.labels[0])
        return self._record(ref, key) if ref else None

    def _labels_for(self, severity: Severity) -> list[str]:
        return [*self.labels, severity.value]

    def create(self, state: IncidentState, text: str) -> Record:
        wanted = {name: INCIDENT_LABEL for name in self.labels}
        wanted[state.severity.value] = LABEL_COLORS[state.severity.value]
        self.tracker.ensure_labels(wanted)
        body = compose_body(state, text, footer=_FOOTER.format(key=state.key))
        ref, _ = self.tracker.create_once(
            title=issue_title(state.severity, state.title),
            body=body,
            labels=self._labels_for(state.severity),
            marker=marker(state.key),
            search_label=self.labels[0],
            assignees=self.assignees,
        )
        return Record(state, ref.url, ref.number)

    def update(
        self, record: Record, state: IncidentState, text: str, *, comment: str | None, close: bool = False
    ) -> Record:
        assert record.number is not None
        labels = title = None
        if state.severity is not record.state.severity:
            self.tracker.ensure_labels({state.severity.value: LABEL_COLORS[state.severity.value]})
            # Swap the severity label only: labels people added on GitHub stay.
            kept = [name for name in self.tracker.labels_of(record.number) if name not in LABEL_COLORS]
            labels = [*dict.fromkeys([*kept, *self.labels]), state.severity.value]
            title = issue_title(state.severity, state.title)
        if comment:
            self.tracker.comment(record.number, comment)
        body = compose_body(state, text, footer=_FOOTER.format(key=state.key))
        self.tracker.update(record.number, body=body, labels=labels, title=title, close=close)
        return replace(record, state=state)


class LocalStore:
    """One markdown file per key, rewritten in place; the timeline below keeps every message."""

    kind = "local"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.md"

    def _read(self, key: str) -> tuple[IncidentState | None, str]:
        path = self.path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, ""
        except OSError as err:
            raise InputError(
                f"{path}: cannot read the incident file: {err.strerror}",
                hint="check the permissions of incident.local_dir",
            ) from err
        title = ""
        for line in text.splitlines():
            if line.startswith("# "):
                title = line[2:].strip()
                break
        state = IncidentState.from_body(text, key=key, title=title, fallback_severity=None, fallback_opened=None)
        timeline = text.split(_TIMELINE, 1)[1] if _TIMELINE in text else ""
        return state, timeline

    def _write(self, state: IncidentState, text: str, timeline: str) -> Path:
        path = self.path(state.key)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            content = compose_body(state, f"# {state.title}\n\n{text}") + f"\n{_TIMELINE}\n{timeline.strip()}\n"
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(content, encoding="utf-8")
            os.replace(tmp, path)
        except OSError as err:
            raise InputError(
                f"{path}: cannot write the incident file: {err.strerror}",
                hint="check that incident.local_dir is writable",
            ) from err
        return path

    def find(self, key: str) -> Record | None:
        state, _ = self._read(key)
        if state is None or state.status != "open":
            return None
        return Record(state, str(self.path(key)))

    def create(self, state: IncidentState, text: str) -> Record:
        path = self.path(state.key)
        old, _ = self._read(state.key)
        if old is not None and path.exists():
            # A resolved incident of the same key: keep it under its resolution time, start afresh.
            stamp = (old.resolved_at or old.opened_at).strftime("%Y%m%dT%H%M%SZ")
            os.replace(path, path.with_name(f"{state.key}.{stamp}.md"))
        entry = f"## {_iso(state.opened_at)} — opened ({state.severity.value})\n\n{text.strip()}\n"
        return Record(state, str(self._write(state, text, "## Timeline\n\n" + entry)))

    def update(
        self, record: Record, state: IncidentState, text: str, *, comment: str | None, close: bool = False
    ) -> Record:
        _, timeline = self._read(state.key)
        if comment:
            what = "resolved" if close else "update"
            when = state.resolved_at if close and state.resolved_at else state.last_alert_at
            timeline = (
                timeline.rstrip() + f"\n\n## {_iso(when)} — {what} ({state.severity.value})\n\n{comment.strip()}\n"
            )
        return Record(state, str(self._write(state, text, timeline)))
