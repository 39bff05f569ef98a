"""How Vercel answers a path of a static deployment, from its ``vercel.json``. Pure: no I/O.

The order is Vercel's: ``headers`` rules that match the request path all apply (to every answer,
redirects and 404s included); then the ``cleanUrls`` and ``trailingSlash`` redirects, then the
project's ``redirects`` (first match wins); then the filesystem; then ``rewrites`` in order, each
followed by another filesystem check; finally a 404 (``404.html`` when the deployment has one).

Keeping this pure lets the rules be tested path by path, and lets the local site host and the
Vercel sandbox share one reading of ``vercel.json``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from aikinklab_ops.errors import InputError
from aikinklab_ops.site.patterns import Pattern, PatternError, compile_source, substitute

VERCEL_JSON = "vercel.json"
NOT_FOUND_PAGE = "404.html"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# Files of a deployment folder that are configuration, never content.
_HIDDEN_TOP = frozenset({VERCEL_JSON, ".vercel"})
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CONDITION_TYPES = frozenset({"header", "cookie", "host", "query"})


@dataclass(frozen=True)
class Condition:
    """One ``has``/``missing`` item: a request header, cookie, query key or the host."""

    type: str
    key: str | None
    value: re.Pattern[str] | None

    def holds(self, request: Request) -> bool:
        if self.type == "host":
            got: str | None = request.host
        elif self.type == "header":
            got = request.header(self.key or "")
        elif self.type == "cookie":
            got = request.cookies().get(self.key or "")
        else:
            got = request.query_values().get(self.key or "")
        if got is None:
            return False
        return self.value is None or self.value.fullmatch(got) is not None


@dataclass(frozen=True)
class _Rule:
    pattern: Pattern
    has: tuple[Condition, ...] = ()
    missing: tuple[Condition, ...] = ()

    def match(self, path: str, request: Request) -> dict[str, str] | None:
        params = self.pattern.match(path)
        if params is None:
            return None
        if not all(c.holds(request) for c in self.has) or any(c.holds(request) for c in self.missing):
            return None
        return params


@dataclass(frozen=True)
class HeaderRule(_Rule):
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RedirectRule(_Rule):
    destination: str = "/"
    status: int = 308


@dataclass(frozen=True)
class RewriteRule(_Rule):
    destination: str = "/"


@dataclass(frozen=True)
class Request:
    """What the rules may look at besides the path."""

    query: str = ""
    host: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def cookies(self) -> dict[str, str]:
        raw = self.header("cookie")
        if not raw:
            return {}
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            return {}
        return {k: m.value for k, m in jar.items()}

    def query_values(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


@dataclass(frozen=True)
class Resolution:
    """The answer: a file to serve with ``status``, a redirect to ``location``, or an error page.

    ``headers`` is a list of pairs, not a mapping: two rules may set the same header, and the
    answer then carries both lines, as it would on Vercel's edge.
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    file: str | None = None
    location: str | None = None
    error_code: str | None = None

    @property
    def is_redirect(self) -> bool:
        return self.location is not None


@dataclass(frozen=True)
class SiteRules:
    header_rules: tuple[HeaderRule, ...] = ()
    redirect_rules: tuple[RedirectRule, ...] = ()
    rewrite_rules: tuple[RewriteRule, ...] = ()
    clean_urls: bool = False
    trailing_slash: bool | None = None

    @classmethod
    def from_vercel_json(cls, data: Mapping[str, Any], *, where: str = VERCEL_JSON) -> SiteRules:
        """Read the routing keys of ``vercel.json``; other keys (build settings…) are not ours.

        A malformed rule raises InputError naming the key and the fix, so a deployment is never
        served with a rule silently dropped.
        """
        if not isinstance(data, Mapping):
            raise InputError(
                f"{where}: expected a JSON object at the top level", hint="see vercel.com/docs/project-configuration"
            )
        if "routes" in data:
            raise InputError(
                f"{where}: routes: the legacy routes format is not supported",
                hint="express the routes as headers, redirects and rewrites (Vercel's current format)",
            )
        clean = _bool(data, "cleanUrls", where, default=False)
        trailing = None if data.get("trailingSlash") is None else _bool(data, "trailingSlash", where, default=False)
        headers = tuple(
            _header_rule(item, f"{where}: headers[{i}]") for i, item in enumerate(_list(data, "headers", where))
        )
        redirects = tuple(
            _redirect_rule(item, f"{where}: redirects[{i}]") for i, item in enumerate(_list(data, "redirects", where))
        )
        rewrites = tuple(
            _rewrite_rule(item, f"{where}: rewrites[{i}]") for i, item in enumerate(_list(data, "rewrites", where))
        )
        return cls(headers, redirects, rewrites, bool(clean), trailing)

    def resolve(
        self,
        path: str,
        exists: Callable[[str], bool],
        *,
        query: str = "",
        host: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Resolution:
        """Answer ``path`` (optionally with ``?query``); ``exists(rel)`` says if a file is deployed.

        ``rel`` is a path relative to the deployment root with ``/`` separators, never containing
        ``..``; the caller still has to keep symlinks inside the root.
        """
        if "?" in path:
            path, _, query = path.partition("?")
        request = Request(query=query, host=host, headers=headers or {})
        decoded = unquote(path)
        if not decoded.startswith("/") or "\x00" in decoded or "\\" in decoded or _has_dot_segment(decoded):
            return Resolution(400, error_code="BAD_REQUEST")
        extra = self._headers_for(decoded, request)

        location = self._redirect_for(decoded, request)
        if location is not None:
            status, target = location
            return Resolution(status, extra, location=_with_query(target, query))

        def lookup(candidate: str) -> str | None:
            return _find_file(candidate, exists, clean_urls=self.clean_urls)

        found = lookup(decoded)
        if found is not None:
            return Resolution(200, extra, file=found)
        current = decoded
        for rule in self.rewrite_rules:
            params = rule.match(current, request)
            if params is None:
                continue
            destination = substitute(rule.destination, params, rule.pattern.names)
            if urlsplit(destination).scheme:
                return Resolution(502, extra, error_code="EXTERNAL_REWRITE_NOT_SUPPORTED")
            current = unquote(urlsplit(destination).path) or "/"
            if _has_dot_segment(current):
                return Resolution(400, extra, error_code="BAD_REQUEST")
            found = lookup(current)
            if found is not None:
                return Resolution(200, extra, file=found)
        page = NOT_FOUND_PAGE if exists(NOT_FOUND_PAGE) else None
        return Resolution(404, extra, file=page, error_code="NOT_FOUND")

    def _headers_for(self, path: str, request: Request) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        for rule in self.header_rules:
            params = rule.match(path, request)
            if params is not None:
                out.extend((k, substitute(v, params, rule.pattern.names)) for k, v in rule.headers)
        return tuple(out)

    def _redirect_for(self, path: str, request: Request) -> tuple[int, str] | None:
        builtin = self._builtin_redirect(path)
        if builtin is not None:
            return 308, builtin
        for rule in self.redirect_rules:
            params = rule.match(path, request)
            if params is not None:
                return rule.status, substitute(rule.destination, params, rule.pattern.names)
        return None

    def _builtin_redirect(self, path: str) -> str | None:
        target: str | None = None
        if self.clean_urls:
            m = re.fullmatch(r"/(?:(.+)/)?index(?:\.html)?/?", path)
            if m:
                target = "/" + (m.group(1) or "")
            else:
                m = re.fullmatch(r"/(.+)\.html/?", path)
                if m:
                    target = "/" + m.group(1)
            if target is not None and self.trailing_slash and target != "/":
                target += "/"
            if target is not None:
                return target
        if self.trailing_slash is True and path != "/":
            last = path.rstrip("/").rsplit("/", 1)[-1]
            has_extension = "." in last
            if not path.endswith("/") and not has_extension:
                return path + "/"
            if path.endswith("/") and has_extension:
                return path.rstrip("/")
        if self.trailing_slash is False and path != "/" and path.endswith("/"):
            return path.rstrip("/") or "/"
        return None


def _has_dot_segment(path: str) -> bool:
    return any(part in (".", "..") for part in path.split("/"))


def _hidden(rel: str) -> bool:
    return rel.split("/", 1)[0] in _HIDDEN_TOP


def _find_file(path: str, exists: Callable[[str], bool], *, clean_urls: bool) -> str | None:
    rel = path.lstrip("/")
    candidates: list[str] = []
    if rel == "" or rel.endswith("/"):
        candidates.append(rel + "index.html")
        if clean_urls and rel:
            candidates.append(rel.rstrip("/") + ".html")
    else:
        candidates.append(rel)
        if clean_urls:
            candidates.append(rel + ".html")
        candidates.append(rel + "/index.html")
    for candidate in candidates:
        if "//" in candidate or _hidden(candidate):
            continue
        if exists(candidate):
            return candidate
    return None


def _with_query(location: str, query: str) -> str:
    if not query:
        return location
    return location + ("&" if "?" in location else "?") + query


def _list(data: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError(f"{where}: {key}: expected a list of rules", hint=f'write "{key}": [{{"source": "/…", …}}]')
    return value


def _bool(data: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise InputError(f"{where}: {key}: expected true or false, found {value!r}", hint=f'write "{key}": true')
    return value


def _pattern(item: Mapping[str, Any], where: str) -> Pattern:
    source = item.get("source")
    if not isinstance(source, str) or not source.startswith("/"):
        raise InputError(
            f"{where}.source: expected a path pattern starting with /", hint='e.g. "source": "/blog/:slug"'
        )
    try:
        return compile_source(source)
    except PatternError as err:
        raise InputError(f"{where}.source: {err}", hint="see vercel.com/docs/project-configuration#source") from err


def _conditions(item: Mapping[str, Any], key: str, where: str) -> tuple[Condition, ...]:
    raw = item.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputError(
            f"{where}.{key}: expected a list of conditions", hint='e.g. [{"type": "header", "key": "x-beta"}]'
        )
    out = []
    for i, cond in enumerate(raw):
        here = f"{where}.{key}[{i}]"
        kind = cond.get("type") if isinstance(cond, Mapping) else None
        if kind not in _CONDITION_TYPES:
            raise InputError(f"{here}.type: expected one of {', '.join(sorted(_CONDITION_TYPES))}, found {kind!r}")
        assert isinstance(cond, Mapping)
        ckey = cond.get("key")
        if kind != "host" and not isinstance(ckey, str):
            raise InputError(f"{here}.key: a {kind} condition needs a key", hint='e.g. "key": "x-beta"')
        value = cond.get("value")
        if kind == "host" and not isinstance(value, str):
            raise InputError(f"{here}.value: a host condition needs a value", hint='e.g. "value": "example.com"')
        try:
            compiled = re.compile(value) if isinstance(value, str) else None
        except re.error as err:
            raise InputError(f"{here}.value: invalid regular expression: {err}") from err
        out.append(Condition(kind, ckey if isinstance(ckey, str) else None, compiled))
    return tuple(out)


def _rule_object(item: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise InputError(
            f"{where}: expected an object with a source", hint='e.g. {"source": "/old", "destination": "/new"}'
        )
    return item


def _header_rule(item: Any, where: str) -> HeaderRule:
    item = _rule_object(item, where)
    raw = item.get("headers")
    if not isinstance(raw, list) or not raw:
        raise InputError(
            f"{where}.headers: expected a non-empty list of {{key, value}}",
            hint='e.g. [{"key": "X-Frame-Options", "value": "DENY"}]',
        )
    pairs = []
    for i, h in enumerate(raw):
        if not isinstance(h, Mapping) or not isinstance(h.get("key"), str) or not isinstance(h.get("value"), str):
            raise InputError(f'{where}.headers[{i}]: expected {{"key": string, "value": string}}')
        if not _HEADER_NAME.match(h["key"]) or "\n" in h["value"] or "\r" in h["value"]:
            raise InputError(
                f"{where}.headers[{i}]: {h['key']!r} is not a valid header line",
                hint="header names are tokens; values are one line",
            )
        pairs.append((h["key"], h["value"]))
    return HeaderRule(
        _pattern(item, where), _conditions(item, "has", where), _conditions(item, "missing", where), tuple(pairs)
    )


def _destination(item: Mapping[str, Any], where: str) -> str:
    dest = item.get("destination")
    if not isinstance(dest, str) or not dest or "\n" in dest or "\r" in dest:
        raise InputError(f"{where}.destination: expected a path or URL", hint='e.g. "destination": "/"')
    return dest


def _redirect_rule(item: Any, where: str) -> RedirectRule:
    item = _rule_object(item, where)
    status = item.get("statusCode")
    if status is None:
        permanent = item.get("permanent", True)
        if not isinstance(permanent, bool):
            raise InputError(f"{where}.permanent: expected true or false, found {permanent!r}")
        status = 308 if permanent else 307
    elif status not in REDIRECT_CODES or isinstance(status, bool):
        raise InputError(f"{where}.statusCode: expected one of 301, 302, 303, 307, 308, found {status!r}")
    return RedirectRule(
        _pattern(item, where),
        _conditions(item, "has", where),
        _conditions(item, "missing", where),
        _destination(item, where),
        int(status),
    )


def _rewrite_rule(item: Any, where: str) -> RewriteRule:
    item = _rule_object(item, where)
    return RewriteRule(
        _pattern(item, where),
        _conditions(item, "has", where),
        _conditions(item, "missing", where),
        _destination(item, where),
    )
