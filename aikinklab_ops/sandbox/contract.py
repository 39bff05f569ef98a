"""The Vercel API contract subset, made checkable.

The sandbox refuses a create-deployment body the real API would refuse, and tests check that every
request a client builds and every answer the sandbox (or a mock) gives fits the published shapes.
Both read the same OpenAPI document, so the sandbox cannot drift from what the tests hold it to.

OpenAPI 3.0 schemas are not JSON Schema: ``nullable`` has to become an explicit ``null`` branch,
``$ref`` has to be resolved, and query strings have to be turned into the numbers and booleans the
schemas describe. Response ``oneOf`` are checked as ``anyOf``: the source's variants overlap (an
owner view of a deployment is also a valid reduced view), so a strict ``oneOf`` refuses every
real answer; where variants are disjoint the two keywords mean the same thing anyway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jsonschema import Draft4Validator

PACKAGED = "vercel-api-subset.json"
_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_EMPTY = object()
# Rate limiting and server failures can answer any operation, whatever each one documents; they are
# still held to Vercel's error shape.
ANY_OPERATION_STATUSES = frozenset({429, 500, 502, 503, 504})
# Vercel scopes every call to a team with these; the source omits them on a few operations
# (update-description), where a team-scoped client must still send them.
TEAM_PARAMS = frozenset({"teamId", "slug"})


def to_jsonschema(schema: Any, document: Mapping[str, Any], *, one_of_as_any_of: bool = False) -> Any:
    """An OpenAPI 3.0 schema object as plain JSON Schema (draft 4)."""
    if isinstance(schema, list):
        return [to_jsonschema(s, document, one_of_as_any_of=one_of_as_any_of) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return to_jsonschema(_resolve(schema["$ref"], document), document, one_of_as_any_of=one_of_as_any_of)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("example", "deprecated", "writeOnly", "readOnly", "nullable", "description", "title"):
            continue
        if key == "properties":
            out[key] = {
                name: to_jsonschema(sub, document, one_of_as_any_of=one_of_as_any_of) for name, sub in value.items()
            }
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            target = "anyOf" if key == "oneOf" and one_of_as_any_of else key
            converted = to_jsonschema(value, document, one_of_as_any_of=one_of_as_any_of)
            if target == "anyOf" and "anyOf" in out:
                out = {"allOf": [out, {"anyOf": converted}]}
            else:
                out[target] = converted
        else:
            out[key] = value
    if schema.get("nullable") is True:
        return {"anyOf": [{"type": "null"}, out]}
    return out


def _resolve(ref: str, document: Mapping[str, Any]) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref!r}")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: Mapping[str, Any]
    regex: re.Pattern[str]

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", f"{self.method} {self.template}"))

    def params(self, where: str) -> list[Mapping[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == where]

    @property
    def needs_bearer(self) -> bool:
        return any("bearerToken" in req for req in self.spec.get("security", []))


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{pattern}$")


def _coerce(raw: str | list[str], schema: Mapping[str, Any]) -> Any:
    """A query or header string as the type its schema describes; unconvertible strings stay strings."""
    kind = schema.get("type")
    if kind == "array":
        values = raw if isinstance(raw, list) else [raw]
        items = schema.get("items", {})
        return [_coerce(v, items) for v in values]
    value = raw[-1] if isinstance(raw, list) else raw
    if kind in ("number", "integer"):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    if kind is None and "oneOf" in schema:
        for option in schema["oneOf"]:
            converted = _coerce(value, option)
            if not isinstance(converted, str) or option.get("type") == "string":
                return converted
    return value


class Contract:
    """The operations of one OpenAPI document, with request and response checks.

    Every ``check_*`` method returns a list of human-readable problems; an empty list means the
    exchange fits. Query parameters the operation does not define are problems too: that is how a
    client relying on an undocumented filter gets caught.
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        ops: list[Operation] = []
        for template, item in document.get("paths", {}).items():
            for method in _METHODS:
                if method in item:
                    ops.append(Operation(method.upper(), template, item[method], _template_regex(template)))
        # Literal segments beat parameters when both could match.
        ops.sort(key=lambda op: (op.template.count("{"), -len(op.template)))
        self.operations: tuple[Operation, ...] = tuple(ops)
        self._validators: dict[str, Draft4Validator] = {}

    @classmethod
    def load(cls, path: str | Path | None = None) -> Contract:
        """The packaged contract, or the document at ``path``."""
        if path is None:
            text = resources.files("aikinklab_ops.sandbox").joinpath(PACKAGED).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls(json.loads(text))

    def operation(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        path = urlsplit(path).path or path
        for op in self.operations:
            if op.method != method.upper():
                continue
            m = op.regex.match(path)
            if m:
                return op, m.groupdict()
        return None

    def find(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    def _validator(self, key: str, schema: Any, *, responses: bool) -> Draft4Validator:
        cache = self._validators
        if key not in cache:
            cache[key] = Draft4Validator(to_jsonschema(schema, self.document, one_of_as_any_of=responses))
        return cache[key]

    def request_body_validator(self, operation_id: str) -> Draft4Validator:
        op = self.find(operation_id)
        schema = op.spec["requestBody"]["content"]["application/json"]["schema"]
        return self._validator(f"req:{operation_id}", schema, responses=False)

    # -- requests ---------------------------------------------------------------------------------

    def check_request(
        self,
        method: str,
        url: str,
        *,
        query: Mapping[str, str | list[str]] | Sequence[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        json_body: Any = _EMPTY,
    ) -> list[str]:
        """Problems with one request; ``url`` may carry the query string, ``query`` adds to it."""
        parts = urlsplit(url)
        found = self.operation(method, parts.path)
        if found is None:
            return [f"{method.upper()} {parts.path}: no such operation in the contract"]
        op, path_params = found
        where = f"{op.operation_id} ({method.upper()} {op.template})"
        problems: list[str] = []
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if isinstance(query, Mapping):
            for k, v in query.items():
                pairs.extend((k, item) for item in (v if isinstance(v, list) else [v]))
        elif query:
            pairs.extend(query)
        grouped: dict[str, list[str]] = {}
        for k, v in pairs:
            grouped.setdefault(k, []).append(v)
        for param in op.params("path"):
            name = param["name"]
            self._check_value(problems, where, f"path parameter {name}", path_params.get(name), param)
        known = set()
        for param in op.params("query"):
            name = param["name"]
            known.add(name)
            self._check_value(problems, where, f"query parameter {name}", grouped.get(name), param)
        for name in sorted(set(grouped) - known - TEAM_PARAMS):
            problems.append(f"{where}: query parameter {name!r} is not defined by the API")
        lower = {k.lower(): v for k, v in (headers or {}).items()}
        for param in op.params("header"):
            name = param["name"]
            self._check_value(problems, where, f"header {name}", lower.get(name.lower()), param)
        if op.needs_bearer:
            auth = lower.get("authorization", "")
            if not re.match(r"^Bearer \S+", auth):
                problems.append(f"{where}: needs an 'Authorization: Bearer <token>' header")
        problems.extend(self._check_request_body(op, where, lower, body, json_body))
        return problems

    def _check_value(
        self, problems: list[str], where: str, label: str, raw: str | list[str] | None, param: Mapping[str, Any]
    ) -> None:
        if raw is None:
            if param.get("required"):
                problems.append(f"{where}: {label} is required")
            return
        schema = param.get("schema", {})
        value = _coerce(raw, schema)
        validator = self._validator(f"param:{id(param)}", schema, responses=False)
        for err in validator.iter_errors(value):
            problems.append(f"{where}: {label}={raw!r}: {err.message}")

    def _check_request_body(
        self, op: Operation, where: str, headers: Mapping[str, str], body: bytes | str | None, json_body: Any
    ) -> list[str]:
        spec = op.spec.get("requestBody")
        raw = body.encode() if isinstance(body, str) else body
        has_body = json_body is not _EMPTY or bool(raw)
        if spec is None:
            if json_body is not _EMPTY and json_body not in ({}, None):
                return [f"{where}: the operation takes no request body, got {json_body!r}"]
            if json_body is _EMPTY and raw and raw.strip() not in (b"{}", b""):
                return [f"{where}: the operation takes no request body, got {len(raw)} bytes"]
            return []
        if not has_body:
            return [f"{where}: a request body is required"] if spec.get("required") else []
        content = spec.get("content", {})
        if "application/json" in content:
            if json_body is _EMPTY:
                try:
                    json_body = json.loads(raw or b"")
                except ValueError as err:
                    return [f"{where}: the request body is not JSON: {err}"]
            ctype = headers.get("content-type")
            problems = []
            if ctype is not None and not ctype.startswith("application/json"):
                problems.append(f"{where}: Content-Type {ctype!r}, expected application/json")
            validator = self._validator(
                f"req:{op.operation_id}", content["application/json"]["schema"], responses=False
            )
            problems.extend(
                f"{where}: body{_pointer(e.absolute_path)}: {e.message}" for e in validator.iter_errors(json_body)
            )
            return problems
        return []

    # -- responses --------------------------------------------------------------------------------

    def check_response(
        self,
        method: str,
        url: str,
        status: int,
        body: bytes | str | None = None,
        *,
        content_type: str | None = None,
        json_body: Any = _EMPTY,
        error_shape: bool = True,
    ) -> list[str]:
        """Problems with one answer. ``error_shape`` also holds 4xx/5xx bodies to Vercel's error shape."""
        path = urlsplit(url).path
        found = self.operation(method, path)
        if found is None:
            return [f"{method.upper()} {path}: no such operation in the contract"]
        op, _ = found
        where = f"{op.operation_id} ({method.upper()} {op.template}) -> {status}"
        responses = op.spec.get("responses", {})
        spec = responses.get(str(status)) or responses.get("default")
        if spec is None and status in ANY_OPERATION_STATUSES:
            spec = {}
        if spec is None:
            return [f"{where}: status {status} is not one the API documents ({', '.join(sorted(responses))})"]
        raw = body.encode() if isinstance(body, str) else (body or b"")
        ctype = (content_type or "application/json").split(";")[0].strip()
        content = spec.get("content", {})
        if status >= 400:
            if not error_shape:
                return []
            parsed = _parse_json(raw) if json_body is _EMPTY else json_body
            if parsed is _EMPTY:
                return [f"{where}: the error body is not JSON"]
            validator = self._validator("error", _ERROR_SCHEMA, responses=True)
            return [
                f"{where}: error body{_pointer(e.absolute_path)}: {e.message}" for e in validator.iter_errors(parsed)
            ]
        if not content:
            return []
        if ctype not in content:
            return [f"{where}: Content-Type {ctype!r}, the API answers {', '.join(content)}"]
        schema = content[ctype].get("schema")
        if schema is None:
            return []
        validator = self._validator(f"res:{op.operation_id}:{status}:{ctype}", schema, responses=True)
        if ctype == "application/stream+json" and json_body is _EMPTY:
            documents: list[Any] = []
            for line in raw.splitlines():
                if line.strip():
                    item = _parse_json(line)
                    if item is _EMPTY:
                        return [f"{where}: a streamed line is not JSON: {line[:80]!r}"]
                    documents.append(item)
        else:
            parsed = _parse_json(raw) if json_body is _EMPTY else json_body
            if parsed is _EMPTY:
                return [f"{where}: the body is not JSON"]
            documents = [parsed]
        problems: list[str] = []
        for doc in documents:
            problems.extend(
                f"{where}: body{_pointer(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)
            )
        return problems


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return _EMPTY


def _pointer(path: Iterable[Any]) -> str:
    parts = list(path)
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def error_message(err: Any) -> str:
    """A jsonschema error in the words Vercel uses for a refused request body."""
    where = _pointer(err.absolute_path).lstrip(".") or "body"
    return f"Invalid request: `{where}` {err.message}"
