"""Pure renderers: ``render(report) -> str``. The CLI decides where the text goes."""

from __future__ import annotations

import json
import re
from typing import Any

from aikinklab_ops.report.model import CheckResult, Report, Status

FORMATS = ("text", "json", "github")

_MARK = {
    Status.PASS: "PASS",
    Status.WARN: "WARN",
    Status.FAIL: "FAIL",
    Status.SKIP: "SKIP",
    Status.ERROR: "ERROR",
}
_EMOJI = {
    Status.PASS: "✅",
    Status.WARN: "⚠️",
    Status.FAIL: "❌",
    Status.SKIP: "⏭️",
    Status.ERROR: "💥",
}
_DETAIL_LINES = 12


# Control characters a server put in a body or header (ESC sequences retitle, recolour or clear a
# terminal; a bare CR overwrites the line) are shown escaped; tab and newline are left alone.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False, default=str) + "\n"


def _verdict(report: Report) -> str:
    if report.ok:
        return "OK" if report.status is not Status.WARN else "OK (with warnings)"
    return "FAILED"


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_text(report: Report, *, details: bool = True) -> str:
    """A table a person reads in a terminal; details only where something is wrong."""
    title = printable(f"{report.kind}" + (f" — {report.target}" if report.target else ""))
    # A summary that carries an error's "fix:" line stays on its row.
    rows = [
        (_MARK[c.status], printable(c.name), printable(_one_line(c.summary)), f"{c.duration_s:.2f}s")
        for c in report.checks
    ]
    w_status = max(len(r[0]) for r in rows)
    w_name = max(len(r[1]) for r in rows)
    lines = [title, ""]
    for check, (mark, name, summary, took) in zip(report.checks, rows, strict=True):
        lines.append(f"  {mark:<{w_status}}  {name:<{w_name}}  {summary}  ({took})")
        if details and check.status in (Status.WARN, Status.FAIL, Status.ERROR) and check.details:
            lines.extend(_detail_lines(check, indent=" " * (w_status + w_name + 6)))
    counts = _counts(report)
    lines += ["", f"{_verdict(report)}: {counts} in {report.duration_s:.2f}s"]
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _detail_lines(check: CheckResult, indent: str) -> list[str]:
    out = []
    for i, (key, value) in enumerate(check.details.items()):
        if i == _DETAIL_LINES:
            out.append(f"{indent}… {len(check.details) - _DETAIL_LINES} more (see --format json)")
            break
        out.append(printable(f"{indent}{key}: {_short(value)}"))
    return out


def _counts(report: Report) -> str:
    parts = []
    for status in Status:
        n = sum(1 for c in report.checks if c.status is status)
        if n:
            parts.append(f"{n} {status.value}")
    return ", ".join(parts)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    """The job-summary section: verdict, the runbook checklist where checks carry labels, a table,
    and every check's details folded away in ``<details>``."""
    title = f"{report.kind}" + (f" — `{report.target}`" if report.target else "")
    head = f"### {'✅' if report.ok else '❌'} {title}\n\n**{_verdict(report)}**: {_counts(report)}"
    parts = [head + f" in {report.duration_s:.2f}s\n"]
    labelled = [c for c in report.checks if c.label]
    if labelled:
        items = []
        for c in labelled:
            box = "x" if c.status in (Status.PASS, Status.WARN) else " "
            if c.status is Status.PASS:
                suffix = ""
            elif c.status is Status.SKIP:
                suffix = f" — skipped: {c.summary}"
            else:
                suffix = f" — {c.summary}"
            items.append(f"- [{box}] {c.label}{_md_cell(suffix)}")
        parts.append("\n".join(items) + "\n")
    table = ["| | Check | Status | Summary | Time |", "|---|---|---|---|---|"]
    for c in report.checks:
        table.append(
            f"| {_EMOJI[c.status]} | `{c.name}` | {c.status.value} | {_md_cell(c.summary)} | {c.duration_s:.2f}s |"
        )
    parts.append("\n".join(table) + "\n")
    for c in report.checks:
        if c.details:
            body = json.dumps(dict(c.details), indent=2, default=str, ensure_ascii=False)
            parts.append(f"<details><summary>{c.name} details</summary>\n\n```json\n{body}\n```\n\n</details>\n")
    return "\n".join(parts)


def escape_data(text: str) -> str:
    """Workflow-command data, escaped so a newline in it cannot end the command and start another."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_annotations(report: Report) -> str:
    """``::error``/``::warning`` workflow commands, one per check that is not clean."""
    lines = []
    for c in report.checks:
        if c.status.failing:
            level = "error"
        elif c.status is Status.WARN:
            level = "warning"
        else:
            continue
        title = _escape_property(f"{report.kind}: {c.name}")
        lines.append(f"::{level} title={printable(title)}::{printable(escape_data(c.summary))}")
    return "\n".join(lines) + ("\n" if lines else "")


def render(report: Report, fmt: str) -> str:
    """The stdout text of a format. For ``github`` that is the annotations plus the text table
    (the markdown goes to the step summary, which the CLI writes)."""
    if fmt == "json":
        return render_json(report)
    if fmt == "text":
        return render_text(report)
    if fmt == "github":
        return render_annotations(report) + render_text(report)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
