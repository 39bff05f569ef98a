"""The Observatory's cookie test, over the cookies a browser's jar would keep.

A session cookie is one whose name contains ``login`` or ``sess``; an anti-CSRF token is one whose
name contains ``csrf`` (so ``XSRF-TOKEN`` is not one: ``extras`` warns about that). The worst
finding over all cookies is the result, in the Observatory's own order of badness.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

# Worst last: a new finding replaces the current one only if it stands later here.
_BADNESS = (
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
)
# Set by third-party plugins the site cannot control; the Observatory ignores them.
COOKIES_TO_DELETE = frozenset({"dwqa_anonymous"})
VALID_SAMESITE = ("strict", "lax", "none")


@dataclass
class Cookie:
    name: str
    value: str
    attrs: dict[str, str | None] = field(default_factory=dict)

    @property
    def secure(self) -> bool:
        return "secure" in self.attrs

    @property
    def httponly(self) -> bool:
        return "httponly" in self.attrs

    @property
    def samesite(self) -> str | None:
        """The SameSite value as sent (``""`` for a bare ``SameSite``), None when absent."""
        if "samesite" not in self.attrs:
            return None
        return (self.attrs["samesite"] or "").strip()

    @property
    def samesite_valid(self) -> bool:
        return (self.samesite or "").lower() in VALID_SAMESITE

    @property
    def session(self) -> bool:
        lower = self.name.lower()
        return "login" in lower or "sess" in lower

    @property
    def anticsrf(self) -> bool:
        return "csrf" in self.name.lower()


def parse_set_cookie(line: str) -> Cookie | None:
    pair, *rest = line.split(";")
    if "=" not in pair:
        return None  # a strict jar (tough-cookie's default) rejects a cookie without a name
    name, value = (s.strip() for s in pair.split("=", 1))
    if not name:
        return None
    attrs: dict[str, str | None] = {}
    for item in rest:
        if not item.strip():
            continue
        key, sep, val = item.partition("=")
        # A repeated attribute: the last one counts (RFC 6265 5.3).
        attrs[key.strip().lower()] = val.strip() if sep else None
    return Cookie(name, value, attrs)


def _expired(cookie: Cookie, now: datetime) -> bool:
    max_age = cookie.attrs.get("max-age")
    if max_age is not None:
        try:
            return int(max_age) <= 0
        except ValueError:
            pass
    expires = cookie.attrs.get("expires")
    if expires:
        try:
            when = parsedate_to_datetime(expires)
        except (TypeError, ValueError):
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when <= now
    return False


def cookie_jar(lines: Iterable[str], *, now: datetime | None = None) -> list[Cookie]:
    """The cookies a jar holds after these Set-Cookie lines: later ones replace, expired ones delete."""
    now = now or datetime.now(timezone.utc)
    jar: dict[tuple[str, str, str], Cookie] = {}
    for line in lines:
        cookie = parse_set_cookie(line)
        if cookie is None:
            continue
        key = (cookie.name, (cookie.attrs.get("domain") or "").lower().lstrip("."), cookie.attrs.get("path") or "/")
        jar.pop(key, None)
        if not _expired(cookie, now):
            jar[key] = cookie
    return [c for c in jar.values() if c.name not in COOKIES_TO_DELETE]


@dataclass
class CookieAnalysis:
    result: str
    reason: str
    passed: bool
    cookies: list[Cookie]


def analyze_cookies(jar: list[Cookie], *, hsts_passed: bool) -> CookieAnalysis:
    if not jar:
        return CookieAnalysis("cookies-not-found", "the page sets no cookies", True, jar)
    result: str | None = None
    reason = ""

    def worse(name: str, why: str) -> None:
        nonlocal result, reason
        if result is None or _BADNESS.index(name) > _BADNESS.index(result):
            result, reason = name, why

    for c in jar:
        if c.samesite is not None and not c.samesite_valid:
            worse("cookies-samesite-flag-invalid", f"cookie {c.name}: SameSite={c.samesite} is not Strict, Lax or None")
        if not c.secure and (c.samesite or "").lower() == "none":
            worse("cookies-samesite-flag-invalid", f"cookie {c.name}: SameSite=None without Secure")
        if not c.secure and hsts_passed:
            worse("cookies-without-secure-flag-but-protected-by-hsts", f"cookie {c.name} lacks Secure (HSTS covers it)")
        elif not c.secure:
            worse("cookies-without-secure-flag", f"cookie {c.name} lacks Secure")
        if c.anticsrf and not c.samesite_valid:
            worse("cookies-anticsrf-without-samesite-flag", f"anti-CSRF cookie {c.name} has no SameSite")
        if c.session and not c.secure and hsts_passed:
            worse(
                "cookies-session-without-secure-flag-but-protected-by-hsts",
                f"session cookie {c.name} lacks Secure (HSTS covers it)",
            )
        elif c.session and not c.secure:
            worse("cookies-session-without-secure-flag", f"session cookie {c.name} lacks Secure")
        if c.session and not c.httponly:
            worse("cookies-session-without-httponly-flag", f"session cookie {c.name} lacks HttpOnly")
    if result is None:
        if all(c.samesite_valid for c in jar):
            result = "cookies-secure-with-httponly-sessions-and-samesite"
            reason = "every cookie is Secure with SameSite, session cookies are HttpOnly"
        else:
            result = "cookies-secure-with-httponly-sessions"
            reason = "every cookie is Secure, session cookies are HttpOnly (not all have SameSite)"
    passed = result in ("cookies-secure-with-httponly-sessions-and-samesite", "cookies-secure-with-httponly-sessions")
    return CookieAnalysis(result, reason, passed, jar)
