"""Redaction of secret values wherever text leaves the process.

The CLI builds one ``Redactor`` from the credentials and the config's secret fields and passes
every byte it writes (stdout, stderr logs, step summary, outputs) through it, so a token that
slipped into an exception message or a URL still never reaches a log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

MASK = "***"
# Shorter values are too likely to occur by chance in ordinary text to be masked safely.
MIN_SECRET_LEN = 6
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|PRIVATE|API_?KEY|ACCESS_?KEY|CREDENTIAL|WEBHOOK)", re.I)
# A query parameter is secret when one of its words is one of these (``x-vercel-protection-bypass``,
# ``access-token``, ``_vercel_share``, ``X-Amz-Signature``), or its name contains one of the
# unmistakable stems below (``accesstoken``, ``clientsecret``).
_SECRET_QUERY_WORDS = frozenset(
    {"token", "auth", "key", "apikey", "signature", "sig", "secret", "password", "passwd", "pwd", "bypass"}
    | {"credential", "credentials", "jwt", "share", "hmac", "code", "session", "sid"}
)
_SECRET_QUERY_STEMS = re.compile(r"token|secret|passw|bypass|signature|apikey|credential", re.I)
_QUERY_PAIR = re.compile(r"([?&;])([^=&;#]*)=([^&;#]*)")
_BEARER = re.compile(r"(?i)\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{8,}")


def looks_secret(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, value: str | None) -> None:
        if value and len(value) >= MIN_SECRET_LEN:
            self._secrets.add(value)

    @property
    def secrets(self) -> tuple[str, ...]:
        # Longest first, so a secret that contains another is masked whole.
        return tuple(sorted(self._secrets, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for s in self.secrets:
            if s in text:
                text = text.replace(s, MASK)
        return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


def _secret_query_key(name: str) -> bool:
    words = re.split(r"[^a-z0-9]+", name.lower())
    return any(w in _SECRET_QUERY_WORDS for w in words) or bool(_SECRET_QUERY_STEMS.search(name))


def _redact_unparseable(url: str) -> str:
    """A URL ``urlsplit`` refuses (``http://[::1/?token=…``) still gets its secrets masked."""
    url = re.sub(r"(//)[^/?#@]*@", rf"\g<1>{MASK}@", url, count=1)
    return _QUERY_PAIR.sub(
        lambda m: f"{m.group(1)}{m.group(2)}={MASK}" if _secret_query_key(m.group(2)) else m.group(0), url
    )


def url_secrets(url: str) -> list[str]:
    """The secret values ``url`` carries (its password, secret-looking query values), raw and decoded,
    so a redactor can mask them wherever they turn up, not only where the URL is printed whole."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        password = parts.password
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        raw_pairs = [(m.group(2), m.group(3)) for m in _QUERY_PAIR.finditer("?" + parts.query)]
    except ValueError:
        password = None
        pairs = [(m.group(2), unquote_plus(m.group(3))) for m in _QUERY_PAIR.finditer(url)]
        raw_pairs = [(m.group(2), m.group(3)) for m in _QUERY_PAIR.finditer(url)]
    if password:
        found += [password, unquote(password)]
    found += [v for k, v in (*pairs, *raw_pairs) if v and _secret_query_key(k)]
    return list(dict.fromkeys(found))


def redact_url(url: str) -> str:
    """Mask credentials a URL can carry: the userinfo password and secret-looking query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_unparseable(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_secret_query_key(k) for k, _ in pairs):
            query = urlencode([(k, MASK if _secret_query_key(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
