"""Load ``ops.yml``: expand ``${VAR}``, validate against the packaged schema, merge over defaults.

Messages follow one pattern so an operator can fix a file without reading code:
``ops.yml: verify.tls.min_days: expected an integer, found "fourteen" (line 12)`` then ``fix: …``.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from aikinklab_ops.config.yamlfile import parse_yaml, read_yaml_file
from aikinklab_ops.errors import ConfigError
from aikinklab_ops.secrets import MASK, looks_secret

DEFAULT_FILE = "ops.yml"
BUILTIN = "built-in defaults"
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


@cache
def _package_files(folder: str, suffix: str) -> tuple[tuple[str, str], ...]:
    base = resources.files("aikinklab_ops.config").joinpath(folder)
    found = []
    for entry in base.iterdir():
        if entry.name.endswith(suffix):
            found.append((entry.name[: -len(suffix)], entry.read_text(encoding="utf-8")))
    return tuple(sorted(found))


@cache
def schema() -> dict[str, Any]:
    """The whole-file schema, composed from one schema per section."""
    sections = {name: json.loads(text) for name, text in _package_files("schema", ".json")}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aikinklab-ops configuration (ops.yml)",
        "type": "object",
        "additionalProperties": False,
        "properties": sections,
    }


@cache
def _defaults() -> dict[str, Any]:
    out: dict[str, Any] = {}  # section name -> its default content
    for name, text in _package_files("defaults", ".yml"):
        data, _ = parse_yaml(text, f"aikinklab_ops/config/defaults/{name}.yml")
        out[name] = data
    return out


def defaults() -> dict[str, Any]:
    return copy.deepcopy(_defaults())


@dataclass(frozen=True)
class Config:
    data: Mapping[str, Any]
    source: str = BUILTIN
    path: Path | None = None
    # Values the schema marks ``x-secret`` or that came from secret-looking variables.
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        return dict(value) if isinstance(value, dict) else {}

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def masked(self) -> dict[str, Any]:
        """The effective config with every secret value replaced, for ``config show``."""
        masked: dict[str, Any] = _mask(copy.deepcopy(dict(self.data)), schema(), set(self.secrets))
        return masked


def _property_schema(sch: Mapping[str, Any], key: Any) -> Mapping[str, Any]:
    extra = sch.get("additionalProperties")
    sub: Mapping[str, Any] = sch.get("properties", {}).get(key, extra if isinstance(extra, dict) else {})
    return sub


def _items_schema(sch: Mapping[str, Any]) -> Mapping[str, Any]:
    items = sch.get("items", {})
    return items if isinstance(items, dict) else {}


def _mask(value: Any, sch: Mapping[str, Any], secrets: set[str]) -> Any:
    if sch.get("x-secret") and value not in (None, ""):
        return MASK
    if isinstance(value, dict):
        for k, v in value.items():
            value[k] = _mask(v, _property_schema(sch, k), secrets)
        return value
    if isinstance(value, list):
        return [_mask(v, _items_schema(sch), secrets) for v in value]
    if isinstance(value, str) and value in secrets:
        return MASK
    if isinstance(value, (int, float)) and not isinstance(value, bool) and str(value) in secrets:
        return MASK  # `max_ms: ${SOME_TOKEN}` took the variable's YAML type
    return value


def _format_path(path: tuple[str | int, ...] | Iterator[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _expand(value: Any, env: Mapping[str, str], where: str, path: tuple[str | int, ...], secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, env, where, (*path, str(k)), secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, where, (*path, i), secrets) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, fallback = m.group(1), m.group(2)
        got = env.get(name)
        if got:
            if looks_secret(name):
                secrets.append(got)
            return got
        if fallback is not None:
            return fallback
        raise ConfigError(
            f"{where}: {_format_path(path)}: environment variable {name} is not set",
            hint=f"export {name}, or write ${{{name}:-default}} to give a default",
        )

    whole = _VAR.fullmatch(value)
    result = _VAR.sub(sub, value)
    if whole and whole.group(0) != "$$":
        # A value that is exactly one ${VAR} takes the variable's YAML type, so
        # `min_days: ${TLS_MIN_DAYS:-14}` is the integer 14, not the string "14".
        try:
            typed = yaml.safe_load(result) if result.strip() else result
        except yaml.YAMLError:
            return result
        if isinstance(typed, (int, float, bool)) or typed is None:
            return typed
    return result


def _found(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return json.dumps(value)


def _example(sch: Mapping[str, Any]) -> str | None:
    for key in ("examples", "default"):
        if key in sch:
            value = sch[key][0] if key == "examples" and isinstance(sch[key], list) else sch[key]
            return json.dumps(value, ensure_ascii=False)
    return None


def _describe(err: jsonschema.ValidationError, where: str, lines: Mapping[tuple[str | int, ...], int]) -> ConfigError:
    path = tuple(err.absolute_path)
    sch = err.schema if isinstance(err.schema, Mapping) else {}
    hint: str | None = None
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = sorted(sch.get("properties", {}))
        extra = [k for k in err.instance if k not in known]
        key = extra[0] if extra else "?"
        path = (*path, key)
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        what = f"unknown key {json.dumps(key)}"
        hint = f'did you mean "{close[0]}"?' if close else "valid keys here: " + ", ".join(known)
    elif err.validator == "type":
        expected = err.validator_value
        words = [expected] if isinstance(expected, str) else list(expected)
        what = f"expected {' or '.join(_TYPE_WORDS.get(w, w) for w in words)}, found {_found(err.instance)}"
        example = _example(sch)
        if example:
            hint = f"write {_format_path(path).rsplit('.', 1)[-1]}: {example}"
    elif err.validator == "enum":
        choices = ", ".join(json.dumps(c) for c in err.validator_value)
        what = f"expected one of {choices}, found {_found(err.instance)}"
        if isinstance(err.instance, str):
            close = difflib.get_close_matches(err.instance, [str(c) for c in err.validator_value], n=1)
            if close:
                hint = f'did you mean "{close[0]}"?'
    elif err.validator == "required":
        missing = str(err.message).split("'")[1] if "'" in err.message else str(err.validator_value)
        what = f"missing required key {json.dumps(missing)}"
        hint = f"add {missing}: to this mapping"
    elif err.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[str(err.validator)]
        what = f"expected a value {op} {err.validator_value}, found {_found(err.instance)}"
    elif err.validator in ("pattern", "format"):
        wanted = sch.get("description") or f"a value matching {err.validator_value}"
        what = f"expected {wanted}, found {_found(err.instance)}"
    elif err.validator in ("minItems", "minLength"):
        what = f"expected at least {err.validator_value} {'item(s)' if err.validator == 'minItems' else 'character(s)'}"
    else:
        what = err.message
    if not hint and sch.get("description") and err.validator not in ("pattern", "format"):
        hint = str(sch["description"])
    line = lines.get(path) or lines.get(path[:-1])
    suffix = f" (line {line})" if line else ""
    return ConfigError(f"{where}: {_format_path(path)}: {what}{suffix}", hint=hint)


def _non_finite(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], float]]:
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _non_finite(v, (*path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _non_finite(v, (*path, i))


def validate(data: Any, where: str, lines: Mapping[tuple[str | int, ...], int] | None = None) -> None:
    """Raise a ConfigError for the first problem, in file order."""
    # YAML has .nan and .inf; JSON Schema cannot refuse them, and no setting here means them
    # (a NaN retry interval busy-loops, an infinite timeout crashes the socket layer).
    for path, value in _non_finite(data, ()):
        line = (lines or {}).get(path)
        suffix = f" (line {line})" if line else ""
        raise ConfigError(
            f"{where}: {_format_path(path)}: expected a finite number, found {value}{suffix}",
            hint="write a plain number such as 30",
        )
    validator = jsonschema.Draft202012Validator(schema())
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    lines = lines or {}

    def order(e: jsonschema.ValidationError) -> tuple[int, int]:
        p = tuple(e.absolute_path)
        return (lines.get(p, 10**9), -len(p))

    best = min(errors, key=order)
    # oneOf/anyOf errors say little; the most specific sub-error says what is wrong.
    while best.context:
        best = jsonschema.exceptions.best_match(best.context)
    raise _describe(best, where, lines)


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return over


def _schema_secrets(value: Any, sch: Mapping[str, Any], out: list[str]) -> None:
    if sch.get("x-secret") and isinstance(value, str) and value:
        out.append(value)
    if isinstance(value, dict):
        for k, v in value.items():
            _schema_secrets(v, _property_schema(sch, k), out)
    elif isinstance(value, list):
        for v in value:
            _schema_secrets(v, _items_schema(sch), out)


def load_config(
    path: str | Path | None = None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Config:
    """Load the config the CLI contract names: ``path``, else ``./ops.yml``, else the defaults.

    An explicit ``path`` that does not exist is an error (a typo must not silently fall back to
    production defaults); a missing ``./ops.yml`` is not.
    """
    env = env if env is not None else {}
    secrets: list[str] = []
    user: dict[str, Any] = {}
    source, file_path = BUILTIN, None
    if path is None:
        candidate = (cwd or Path.cwd()) / DEFAULT_FILE
        if candidate.is_file() or candidate.is_dir():  # a directory is refused below, not skipped
            file_path = candidate
    else:
        file_path = Path(path)
        if not file_path.is_file() and not file_path.is_dir():
            raise ConfigError(
                f"{file_path}: config file not found",
                hint="pass an existing file with --config, or leave it out to use ./ops.yml or the built-in defaults",
            )
    if file_path is not None and file_path.is_dir():
        raise ConfigError(f"{file_path}: is a directory, not a config file", hint="point --config at the file itself")
    if file_path is not None:
        source = str(file_path)
        where = file_path.name if path is None else str(file_path)
        raw, lines = read_yaml_file(file_path)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected a mapping of sections at the top level, found {_found(raw)}")
        user = _expand(raw, env, where, (), secrets)
        validate(user, where, lines)
    merged = _merge(defaults(), user)
    validate(merged, f"{source} (merged over the built-in defaults)")
    _schema_secrets(merged, schema(), secrets)
    return Config(data=merged, source=source, path=file_path, secrets=tuple(dict.fromkeys(secrets)))
