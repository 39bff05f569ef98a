"""Environment files with their values taken out and their keys kept.

An unencrypted backup must be safe to hand to anyone who can read the release, yet a restore has
to say which variables the app needs. So every assignment keeps its key and loses its value;
comments and blank lines stay, so the file still reads like the original. Multi-line quoted values
are consumed whole, so no continuation line survives as if it were text.
"""

from __future__ import annotations

import re

REDACTED = ""
HEADER = "# values removed by aikinklab-ops backup (encrypt the backup with --encrypt-to to keep them)\n"
_ASSIGN = re.compile(r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*[=:]\s*)(.*)$")


def _opens_multiline(value: str) -> str | None:
    """The quote that starts a value and is not closed on the same line, if any."""
    v = value.strip()
    if not v or v[0] not in "\"'`":
        return None
    quote = v[0]
    body = v[1:]
    i = 0
    while i < len(body):
        if body[i] == "\\" and quote == '"':
            i += 2
            continue
        if body[i] == quote:
            return None
        i += 1
    return quote


def redact_env(text: str) -> tuple[str, list[str]]:
    """Return the redacted text and the keys found, in order."""
    out = [HEADER]
    keys: list[str] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            out.append(line if line.endswith("\n") else line + "\n")
            continue
        m = _ASSIGN.match(line.rstrip("\r\n"))
        if not m:
            # Not an assignment we understand: keep nothing of it rather than risk a value.
            out.append("# (unrecognised line removed)\n")
            continue
        prefix, key, sep, value = m.groups()
        keys.append(key)
        out.append(f"{prefix}{key}{sep.strip() or '='}{REDACTED}\n")
        quote = _opens_multiline(value)
        if quote:
            while i < len(lines):
                nxt = lines[i]
                i += 1
                if quote in nxt:
                    break
    return "".join(out), keys
