"""Environment files with their values taken out and their keys kept.

An unencrypted backup must be safe to hand to anyone who can read the release, yet a restore has
to say which variables the app needs. So every assignment keeps its key and loses its value;
comments and blank lines stay, so the file still reads like the original — except that a
commented-out assignment (``# OLD_KEY=sk_live_…``, a common way to keep a previous value) loses its
value too. Multi-line quoted values are consumed whole, so no continuation line survives as if it
were text.
"""

from __future__ import annotations

import re

REDACTED = ""
HEADER = "# values removed by aikinklab-ops backup (encrypt the backup with --encrypt-to to keep them)\n"
_ASSIGN = re.compile(r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*[=:]\s*)(.*)$")
_COMMENTED_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*\s*=).*$")


def _comment(line: str) -> str:
    """A comment line; in a commented-out assignment (``# OLD_KEY=sk_live_…``) the value goes too."""
    if "=" in line:
        return _COMMENTED_VALUE.sub(lambda m: m.group(1).rstrip() + REDACTED, line.rstrip("\r\n"), count=1) + "\n"
    return line if line.endswith("\n") else line + "\n"


def _closes(text: str, quote: str) -> bool:
    """Whether a continuation line holds the closing quote (a backslash escapes inside double quotes)."""
    i = 0
    while i < len(text):
        if text[i] == "\\" and quote == '"':
            i += 2
            continue
        if text[i] == quote:
            return True
        i += 1
    return False


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
            out.append(_comment(line))
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
                if _closes(nxt, quote):
                    break
    return "".join(out), keys
