"""Gate ``feature-flags``: every flag is described, owned, defaulted and set for every environment.

A flag that has no value for production is decided by whatever the code falls back to — which is
how a half-finished feature goes live. The file is validated against ``flags.schema.json`` shipped
beside this module; every problem is listed at once with its line, so one run fixes the file.
An unused site says ``feature_flags.used: false`` and the gate is skipped; a configured file that
is missing is an error, never a pass.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from aikinklab_ops.errors import ConfigError, InputError
from aikinklab_ops.gates.base import GateContext, parse_yaml_input, read_text
from aikinklab_ops.gates.settings import parse_date
from aikinklab_ops.report import CheckResult, Status

NAME = "feature-flags"
LABEL = "Feature flags configured"
PRODUCER = "hand and committed to the repository (e.g. feature-flags.yml at its root)"


@cache
def flags_schema() -> dict[str, Any]:
    text = resources.files("aikinklab_ops.gates").joinpath("flags.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _where(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def validate_flags(
    data: Any,
    name: str,
    lines: Mapping[tuple[str | int, ...], int],
    environments: tuple[str, ...],
    today: date,
    target: str | None = None,
) -> tuple[list[str], list[str], list[str]]:
    """Return (problems, warnings, flag keys); problems fail the gate, warnings only warn."""

    def at(path: tuple[str | int, ...]) -> str:
        line = lines.get(path) or lines.get(path[:-1])
        return f"{name}:{line}" if line else name

    problems: list[str] = []
    warnings: list[str] = []
    validator = jsonschema.Draft202012Validator(flags_schema())
    for err in sorted(validator.iter_errors(data), key=lambda e: lines.get(tuple(e.absolute_path), 0)):
        path = tuple(err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else str(err.validator_value)
            problems.append(f"{at(path)}: {_where(path)}: missing {missing}")
        elif err.validator == "additionalProperties" and isinstance(err.instance, Mapping):
            known = set((err.schema or {}).get("properties", {})) if isinstance(err.schema, Mapping) else set()
            extra = [k for k in err.instance if k not in known]
            key = str(extra[0]) if extra else "?"
            problems.append(f"{at((*path, key))}: {_where(path)}: unknown key {key}")
        else:
            problems.append(f"{at(path)}: {_where(path)}: {err.message}")
    flags = data.get("flags") if isinstance(data, Mapping) else None
    if not isinstance(flags, Mapping):
        return problems, warnings, []
    if not flags:
        problems.append(f"{name}: no flags defined (set feature_flags.used: false if the site has none)")
    known = set(environments)
    if target and target not in known:
        problems.append(f"{name}: the target environment {target!r} is not one of {', '.join(environments)}")
    for key, flag in flags.items():
        if not isinstance(flag, Mapping):
            continue
        envs = flag.get("environments")
        if isinstance(envs, Mapping):
            for env in envs:
                if env not in known:
                    problems.append(
                        f"{at(('flags', key, 'environments', str(env)))}: flags.{key}: unknown environment {env!r}"
                        f" (configured: {', '.join(environments)})"
                    )
            missing = [e for e in environments if e not in envs]
            if missing:
                problems.append(f"{at(('flags', key, 'environments'))}: flags.{key}: no value for {', '.join(missing)}")
        if "remove_by" in flag:
            try:
                due = parse_date(flag["remove_by"], f"{at(('flags', key, 'remove_by'))}: flags.{key}.remove_by", "")
            except ConfigError as err:
                problems.append(err.message)
            else:
                if due < today:
                    warnings.append(f"flags.{key} is past its remove_by date {due} (owner {flag.get('owner', '?')})")
    return problems, warnings, [str(k) for k in flags]


def run(ctx: GateContext) -> CheckResult:
    s = ctx.settings
    if not s.flags_used and ctx.inputs.flags is None:
        return CheckResult(NAME, Status.SKIP, "no feature flags used (gates.feature_flags.used is false)", label=LABEL)
    if s.flags_file is None:
        raise InputError(
            "no feature flags file configured",
            hint="set gates.feature_flags.file, pass --flags, or set gates.feature_flags.used: false",
        )
    if not s.flag_environments:
        raise ConfigError(f"{s.where}: gates.feature_flags.environments: no environments to check flags against")
    path = s.flags_file
    text = read_text(path, "feature flags file", PRODUCER)
    if path.suffix.lower() == ".json":
        # JSON may be indented with tabs, YAML may not; in JSON a tab is only ever whitespace
        # (a string cannot hold a raw one), so spaces keep the meaning and the line numbers.
        text = text.replace("\t", " ")
    data, lines = parse_yaml_input(text, str(path))  # refuses duplicate keys, with both lines
    problems, warnings, keys = validate_flags(
        data, str(path), lines, s.flag_environments, ctx.inputs.today, ctx.inputs.environment
    )
    details: dict[str, Any] = {"file": str(path), "environments": list(s.flag_environments), "flags": keys}
    if problems:
        details["problems"] = problems
    if warnings:
        details["warnings"] = warnings
    if problems:
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        return CheckResult(NAME, Status.FAIL, "; ".join(problems[:3]) + more, details, label=LABEL)
    if warnings:
        return CheckResult(NAME, Status.WARN, f"{len(keys)} flags valid; " + "; ".join(warnings), details, label=LABEL)
    return CheckResult(
        NAME, Status.PASS, f"{len(keys)} flags valid for {', '.join(s.flag_environments)}", details, label=LABEL
    )
