"""Gate ``security-audit``: no unaccepted vulnerability at or above ``fail_on`` in ``npm audit --json``.

Fail closed: anything that is not a complete audit report — npm's own error document (ENOLOCK,
a refused audit endpoint), an empty or truncated file, a report whose counts contradict its
entries — fails with that reason. Reading such a file as "0 vulnerabilities" is exactly the
mistake that lets a vulnerable build through.

A finding is one advisory reached by one dependency path. npm >= 7 lists vulnerable *packages*;
a package's ``via`` holds its own advisories (objects) and the names of vulnerable packages it
depends on (strings). Following the strings from each root (a direct dependency) gives every
path, e.g. ``github-build>axios>follow-redirects``, so an allowlist entry can accept a finding on
one path and still fail the same advisory reached another way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from aikinklab_ops.errors import InputError
from aikinklab_ops.gates.base import GateContext, read_text
from aikinklab_ops.gates.settings import SEVERITIES, AllowEntry
from aikinklab_ops.report import CheckResult, Status

NAME = "security-audit"
LABEL = "Security audit clean"
PRODUCER = "the security step: `npm audit --json > reports/npm-audit.json` (keep going on its exit code)"
_GHSA = re.compile(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}", re.I)


class AuditUnusable(Exception):
    """The document is not a report we can trust; the gate fails with this reason."""


@dataclass(frozen=True)
class Finding:
    package: str  # the package the advisory is about
    severity: str
    advisory: str  # GHSA id when known, else npm's numeric id
    title: str
    url: str | None
    path: str  # a>b>c
    fix: str  # human words: "no fix available", "npm audit fix", "axios@0.26.0 (semver major)"
    source: str | None = None  # npm's numeric id, for matching

    def ids(self) -> set[str]:
        out = {self.advisory.lower()}
        if self.url:
            out.add(self.url.lower().rstrip("/"))
        if self.source:
            out.add(self.source.lower())
        return out


@dataclass(frozen=True)
class AuditDocument:
    file: str
    fmt: str
    findings: tuple[Finding, ...]


# ---------------------------------------------------------------- parsing


def _fix_words(fix: Any) -> str:
    if fix is True:
        return "npm audit fix"
    if isinstance(fix, Mapping) and fix.get("name"):
        major = " (semver major)" if fix.get("isSemVerMajor") else ""
        return f"{fix['name']}@{fix.get('version', '?')}{major}"
    return "no fix available"


def _advisory_id(url: str | None, source: Any) -> str:
    m = _GHSA.search(url or "")
    if m:
        return "GHSA" + m.group(0)[4:].lower()
    return str(source) if source is not None else (url or "unknown")


def _severity(value: Any, where: str) -> str:
    sev = str(value or "").lower()
    if sev not in SEVERITIES:
        raise AuditUnusable(f"{where}: unknown severity {value!r}")
    return sev


def _metadata_counts(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    meta = doc.get("metadata")
    if meta is None:
        return None
    if not isinstance(meta, Mapping):
        raise AuditUnusable(f"`metadata` is not a mapping (found {type(meta).__name__}): not npm audit output")
    counts = meta.get("vulnerabilities")
    return counts if isinstance(counts, Mapping) else None


def _parse_v2(doc: Mapping[str, Any]) -> list[Finding]:
    vulns = doc.get("vulnerabilities")
    if not isinstance(vulns, Mapping):
        raise AuditUnusable("`vulnerabilities` is missing or not a mapping")
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def walk(pkg: str, path: list[str]) -> None:
        entry = vulns.get(pkg)
        if not isinstance(entry, Mapping):
            raise AuditUnusable(f"`via` names {pkg!r}, which the report does not list")
        for via in entry.get("via") or ():
            if isinstance(via, str):
                if via in path:  # a dependency cycle; its advisories are already on this path
                    continue
                walk(via, [*path, via])
            elif isinstance(via, Mapping):
                adv_pkg = str(via.get("name") or pkg)
                # The fix for a path is the fix of its root: what to update in package.json.
                root_entry = vulns.get(path[0], entry)
                url = via.get("url")
                finding = Finding(
                    package=adv_pkg,
                    severity=_severity(via.get("severity"), adv_pkg),
                    advisory=_advisory_id(url, via.get("source")),
                    title=str(via.get("title") or ""),
                    url=url,
                    path=">".join(path),
                    fix=_fix_words(root_entry.get("fixAvailable") if isinstance(root_entry, Mapping) else None),
                    source=None if via.get("source") is None else str(via.get("source")),
                )
                key = (finding.advisory, finding.path)
                if key not in seen:
                    seen.add(key)
                    findings.append(finding)
            else:
                raise AuditUnusable(f"{pkg}: unexpected `via` entry {via!r}")

    # Roots: direct dependencies, and (to never drop anything) packages nothing else depends on.
    roots = [k for k, v in vulns.items() if isinstance(v, Mapping) and (v.get("isDirect") or not v.get("effects"))]
    for root in roots:
        walk(root, [root])
    reached = {f.package for f in findings} | {p for f in findings for p in f.path.split(">")}
    for pkg in vulns:
        if pkg not in reached:
            walk(pkg, [pkg])

    counts = _metadata_counts(doc)
    if counts is not None:
        listed = {s: 0 for s in SEVERITIES}
        for v in vulns.values():
            if isinstance(v, Mapping) and str(v.get("severity")) in listed:
                listed[str(v.get("severity"))] += 1
        for sev in SEVERITIES:
            if isinstance(counts.get(sev), int) and counts[sev] != listed[sev]:
                raise AuditUnusable(
                    f"metadata counts {counts[sev]} {sev} packages but {listed[sev]} are listed (a truncated report?)"
                )
    return findings


def _parse_v1(doc: Mapping[str, Any]) -> list[Finding]:
    advisories = doc.get("advisories")
    if not isinstance(advisories, Mapping):
        raise AuditUnusable("`advisories` is not a mapping")
    fixes: dict[tuple[str, str], str] = {}
    for action in doc.get("actions") or ():
        if not isinstance(action, Mapping):
            continue
        kind = action.get("action")
        if kind in ("install", "update"):
            target = f"{action.get('module')}@{action.get('target')}" if action.get("target") else "npm audit fix"
            words = target + (" (semver major)" if action.get("isMajor") else "")
        else:
            words = "no fix available"
        for res in action.get("resolves") or ():
            if isinstance(res, Mapping):
                fixes[(str(res.get("id")), str(res.get("path")))] = words
    findings: list[Finding] = []
    for key, adv in advisories.items():
        if not isinstance(adv, Mapping):
            raise AuditUnusable(f"advisory {key!r} is not a mapping")
        source = str(adv.get("id", key))
        url = adv.get("url")
        ghsa = adv.get("github_advisory_id")
        advisory = _advisory_id(str(ghsa), source) if ghsa else _advisory_id(url, source)
        paths = [p for f in adv.get("findings") or () if isinstance(f, Mapping) for p in f.get("paths") or ()]
        if not paths:
            paths = [str(adv.get("module_name"))]
        for path in dict.fromkeys(paths):
            findings.append(
                Finding(
                    package=str(adv.get("module_name")),
                    severity=_severity(adv.get("severity"), f"advisory {key}"),
                    advisory=advisory,
                    title=str(adv.get("title") or ""),
                    url=url,
                    path=str(path),
                    fix=fixes.get((source, str(path)), "no fix available"),
                    source=source,
                )
            )
    counts = _metadata_counts(doc)
    if counts is not None and not findings:
        total = sum(v for k, v in counts.items() if k in SEVERITIES and isinstance(v, int))
        if total:
            raise AuditUnusable(f"metadata counts {total} vulnerabilities but no advisory is listed")
    return findings


def parse_audit(text: str, name: str) -> AuditDocument:
    """Parse one ``npm audit --json`` output, or raise ``AuditUnusable`` saying why it cannot be trusted."""
    if not text.strip():
        raise AuditUnusable(
            "the file is empty: npm audit wrote nothing (did it crash, or was its output not captured?)"
        )
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise AuditUnusable(
            f"not valid JSON at line {err.lineno} column {err.colno} ({err.msg}): "
            "the report is truncated or not npm audit output"
        ) from None
    if not isinstance(doc, Mapping):
        raise AuditUnusable("expected a JSON object from npm audit --json")
    error = doc.get("error")
    if "statusCode" in doc:  # an HTTP error body ({"statusCode", "error", "message"}) from the audit endpoint
        status = doc.get("statusCode")
        reason = f" {error}" if isinstance(error, str) and error else ""
        raise AuditUnusable(
            "the audit endpoint refused the request"
            + (f" (HTTP {status}{reason})" if status is not None else "")
            + (f": {doc.get('message')}" if doc.get("message") else "")
        )
    if error is not None:
        if isinstance(error, Mapping):
            code = error.get("code") or "error"
            summary = str(error.get("summary") or error.get("message") or "").strip()
            detail = str(error.get("detail") or "").strip()
            text = (
                f"npm audit failed: {code}" + (f": {summary}" if summary else "") + (f" ({detail})" if detail else "")
            )
        else:
            text = f"npm audit failed: {error}"
        raise AuditUnusable(text)
    if "message" in doc and "vulnerabilities" not in doc and "advisories" not in doc:
        raise AuditUnusable(
            "the audit endpoint refused the request" + (f": {doc.get('message')}" if doc.get("message") else "")
        )
    if doc.get("auditReportVersion") == 2 or "vulnerabilities" in doc:
        return AuditDocument(name, "npm >= 7 (auditReportVersion 2)", tuple(_parse_v2(doc)))
    if "advisories" in doc:
        return AuditDocument(name, "npm 6", tuple(_parse_v1(doc)))
    raise AuditUnusable("not an npm audit report: no `vulnerabilities` (npm >= 7) or `advisories` (npm 6)")


# ---------------------------------------------------------------- allowlist


def path_matches(pattern: str, path: str) -> bool:
    """``a>b>c`` against a pattern of the same shape; ``*`` is one package, ``**`` any number."""
    pat = [p.strip() for p in pattern.split(">")]
    segs = path.split(">")

    def match(i: int, j: int) -> bool:
        if i == len(pat):
            return j == len(segs)
        if pat[i] == "**":
            return any(match(i + 1, k) for k in range(j, len(segs) + 1))
        if j == len(segs):
            return False
        return (pat[i] == "*" or pat[i] == segs[j]) and match(i + 1, j + 1)

    return match(0, 0)


def entry_matches(entry: AllowEntry, finding: Finding) -> bool:
    if entry.id is not None and entry.id.lower().rstrip("/") not in finding.ids():
        return False
    if entry.module is not None and entry.module != finding.package:
        return False
    return entry.path is None or path_matches(entry.path, finding.path)


# ---------------------------------------------------------------- the verdict


def _group(findings: Sequence[Finding], extra: Mapping[int, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One line per advisory and package, with every path it was reached by."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for i, f in enumerate(findings):
        item = grouped.setdefault(
            (f.advisory, f.package),
            {
                "package": f.package,
                "severity": f.severity,
                "advisory": f.advisory,
                "title": f.title,
                "url": f.url,
                "paths": [],
                "fix_available": f.fix,
            },
        )
        item["paths"].append(f.path)
        if extra and i in extra:
            item.update(extra[i])
    order = {s: n for n, s in enumerate(reversed(SEVERITIES))}
    return sorted(grouped.values(), key=lambda d: (order[d["severity"]], d["package"], d["advisory"]))


def _short(items: Sequence[Mapping[str, Any]], limit: int = 4) -> str:
    shown = [
        f"{d['package']} {d['advisory']}" + (" (no fix)" if d["fix_available"] == "no fix available" else "")
        for d in items[:limit]
    ]
    more = f", … {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown) + more


def _counts(items: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for sev in reversed(SEVERITIES):
        n = len({d["advisory"] for d in items if d["severity"] == sev})
        if n:
            parts.append(f"{n} {sev}")
    return ", ".join(parts)


def evaluate(
    documents: Sequence[AuditDocument], fail_on: str, allowlist: Sequence[AllowEntry], today: date
) -> tuple[Status, str, dict[str, Any]]:
    threshold = SEVERITIES.index(fail_on)
    used: set[int] = set()
    failing: list[Finding] = []
    below: list[Finding] = []
    allowed: list[Finding] = []
    allowed_by: dict[int, dict[str, Any]] = {}
    expired_hits: dict[int, int] = {}
    for doc in documents:
        for f in doc.findings:
            live = None
            for entry in allowlist:
                if entry_matches(entry, f):
                    if entry.expires < today:
                        expired_hits[entry.index] = expired_hits.get(entry.index, 0) + 1
                        continue
                    live = entry
                    break
            if live is not None:
                used.add(live.index)
                allowed_by[len(allowed)] = {
                    "allowlist": live.describe(),
                    "reason": live.reason,
                    "expires": str(live.expires),
                }
                allowed.append(f)
            elif SEVERITIES.index(f.severity) >= threshold:
                failing.append(f)
            else:
                below.append(f)
    expired: list[dict[str, Any]] = [
        {"entry": e.describe(), "reason": e.reason, "expired": str(e.expires), "matches": expired_hits.get(e.index, 0)}
        for e in allowlist
        if e.expires < today
    ]
    stale = [
        {"entry": e.describe(), "reason": e.reason, "expires": str(e.expires)}
        for e in allowlist
        if e.expires >= today and e.index not in used
    ]
    fail_items, below_items, allowed_items = _group(failing), _group(below), _group(allowed, allowed_by)
    details: dict[str, Any] = {
        "reports": [{"file": d.file, "format": d.fmt, "findings": len(d.findings)} for d in documents],
        "fail_on": fail_on,
        "failing": fail_items,
        "below_threshold": below_items,
        "allowed": allowed_items,
    }
    if expired:
        details["expired_allowlist"] = expired
    if stale:
        details["stale_allowlist"] = stale
    notes = []
    if below_items:
        notes.append(f"{_counts(below_items)} below {fail_on}: {_short(below_items, 3)}")
    if allowed_items:
        notes.append(f"{len({d['advisory'] for d in allowed_items})} allowlisted")
    if expired:
        notes.append("expired allowlist: " + ", ".join(e["entry"] + f" (expired {e['expired']})" for e in expired))
    if stale:
        notes.append("stale allowlist (matches nothing): " + ", ".join(e["entry"] for e in stale))
    tail = ("; " + "; ".join(notes)) if notes else ""
    if fail_items:
        return Status.FAIL, f"{_counts(fail_items)}: {_short(fail_items)}{tail}", details
    total = sum(len(d.findings) for d in documents)
    if below_items or expired or stale:
        return Status.WARN, f"nothing at or above {fail_on}{tail}", details
    if total == 0:
        return Status.PASS, "0 vulnerabilities", details
    return Status.PASS, f"nothing at or above {fail_on}{tail}", details


def run(ctx: GateContext) -> CheckResult:
    reports = ctx.settings.audit_reports
    if not reports:
        raise InputError(
            "no npm audit report configured", hint="set gates.security_audit.report or pass --audit-report"
        )
    documents = []
    for path in reports:
        text = read_text(Path(path), "npm audit report", PRODUCER)
        try:
            documents.append(parse_audit(text, str(path)))
        except AuditUnusable as why:
            return CheckResult(
                NAME, Status.FAIL, f"{path}: {why}", {"file": str(path), "reason": str(why)}, label=LABEL
            )
    status, summary, details = evaluate(documents, ctx.settings.fail_on, ctx.settings.allowlist, ctx.inputs.today)
    return CheckResult(NAME, status, summary, details, label=LABEL)
