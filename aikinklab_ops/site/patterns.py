"""Vercel's source patterns (path-to-regexp syntax) compiled to Python regular expressions.

Vercel matches ``source`` with path-to-regexp in strict, case-sensitive mode: ``:name`` is one
segment, ``:name*`` / ``:name+`` / ``:name?`` take zero-or-more / one-or-more / an optional
segment (the ``/`` before them belongs to the parameter), ``:name(regex)`` and bare ``(regex)``
give the segment's pattern. Destinations refer to parameters as ``:name`` and to every group, in
order, as ``$1``, ``$2``…
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z0-9_]+")
_DEFAULT_SEGMENT = "[^/]+?"


class PatternError(ValueError):
    """A source pattern that path-to-regexp would refuse too."""


@dataclass(frozen=True)
class Pattern:
    source: str
    regex: re.Pattern[str]
    names: tuple[str, ...]  # one per group, in order; unnamed groups are "0", "1", …

    def match(self, path: str) -> dict[str, str] | None:
        m = self.regex.fullmatch(path)
        if m is None:
            return None
        return {name: (m.group(f"g{i}") or "") for i, name in enumerate(self.names)}


def _group_pattern(source: str, start: int) -> tuple[str, int]:
    """The regex inside ``(...)`` starting at ``start`` (the open paren), and the index after it."""
    depth, i = 0, start
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                inner = source[start + 1 : i]
                if not inner:
                    raise PatternError(f"empty group at position {start} in {source!r}")
                if inner.startswith("?") and not inner.startswith(("?:", "?=", "?!")):
                    raise PatternError(f"unsupported group syntax at position {start} in {source!r}")
                return inner, i + 1
        i += 1
    raise PatternError(f"unbalanced parenthesis at position {start} in {source!r}")


def compile_source(source: str) -> Pattern:
    """Compile a ``source`` pattern; raise PatternError with the position of what is wrong."""
    if not source.startswith("/"):
        raise PatternError(f"{source!r} does not start with /")
    out: list[str] = []
    names: list[str] = []
    unnamed = 0
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source):
            out.append(re.escape(source[i + 1]))
            i += 2
            continue
        if ch in ":(":
            if ch == ":":
                m = _NAME.match(source, i + 1)
                if not m:
                    raise PatternError(f"missing parameter name after ':' at position {i} in {source!r}")
                name = m.group(0)
                i = m.end()
                segment = _DEFAULT_SEGMENT
                if i < len(source) and source[i] == "(":
                    segment, i = _group_pattern(source, i)
            else:
                segment, i = _group_pattern(source, i)
                name = str(unnamed)
                unnamed += 1
            modifier = source[i] if i < len(source) and source[i] in "?*+" else ""
            i += len(modifier)
            group = f"g{len(names)}"
            names.append(name)
            # The "/" written before a parameter with a modifier is part of what is optional.
            prefix = ""
            if modifier and out and out[-1] == "/":
                out.pop()
                prefix = "/"
            if modifier in ("*", "+"):
                body = f"(?P<{group}>(?:{segment})(?:/(?:{segment}))*)"
                out.append(f"(?:{prefix}{body})" + ("?" if modifier == "*" else ""))
            elif modifier == "?":
                out.append(f"(?:{prefix}(?P<{group}>{segment}))?")
            else:
                out.append(f"(?P<{group}>{segment})")
            continue
        out.append("/" if ch == "/" else re.escape(ch))
        i += 1
    try:
        regex = re.compile("".join(out))
    except re.error as err:
        raise PatternError(f"invalid regular expression in {source!r}: {err}") from err
    return Pattern(source, regex, tuple(names))


_DEST_TOKEN = re.compile(r"\$(\d+)|:([A-Za-z0-9_]+)([*+?])?")


def substitute(template: str, params: Mapping[str, str], names: tuple[str, ...]) -> str:
    """Fill ``:name`` and ``$N`` in a destination or header value from the matched groups.

    Only parameters the source defined are replaced, so the ``:`` of ``https://`` or of a port is
    left alone.
    """
    ordered = [params.get(n, "") for n in names]

    def repl(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            index = int(m.group(1)) - 1
            return ordered[index] if 0 <= index < len(ordered) else m.group(0)
        name = m.group(2)
        if name in params:
            return params[name]
        return m.group(0)

    return _DEST_TOKEN.sub(repl, template)
