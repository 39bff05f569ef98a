"""Writing the files an Actions runner reads back: ``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY``.

Values go in heredoc form with a random delimiter, so a multi-line value (or one that contains a
line that looks like a delimiter) cannot end early and inject another output.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path


def format_outputs(values: Mapping[str, str]) -> str:
    chunks = []
    for name, value in values.items():
        if not name or any(ch in name for ch in "\r\n=<"):
            raise ValueError(f"invalid output name {name!r}")
        while True:
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            if delimiter not in value:
                break
        chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(chunks)


def write_outputs(path: str | Path, values: Mapping[str, str]) -> None:
    if values:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(format_outputs(values))


def append_summary(path: str | Path, markdown: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(markdown if markdown.endswith("\n") else markdown + "\n")


def mask_commands(secret_values: tuple[str, ...]) -> str:
    """``::add-mask::`` lines; one per line of each secret, since masking works line by line."""
    lines = []
    for value in secret_values:
        for part in value.splitlines():
            if part.strip():
                # Command data is unescaped by the runner (%25 -> %), so a literal % must go as %25.
                lines.append(f"::add-mask::{part.replace('%', '%25')}")
    return "\n".join(lines) + ("\n" if lines else "")
