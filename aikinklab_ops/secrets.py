"""Redaction of secret values wherever text leaves the process.

The CLI builds one ``Redactor`` from the credentials and the config's secret fields and passes
every byte it writes (stdout, stderr logs, step summary, outputs) through it, so a token that
slipped into an exception message or a URL still never reaches a log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Shorter values are too likely to occur by chance in ordinary text to be masked safely.
MIN_SECRET_LEN = 6
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|PRIVATE|API_?KEY|ACCESS_?KEY|CREDENTIAL|WEBHOOK)", re.I)
_SECRET_QUERY_KEYS = re.compile(r"^(token|access_token|auth|key|api_key|apikey|signature|sig|secret|password)$", re.I)
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


def redact_url(url: str) -> str:
    """Mask credentials a URL can carry: the userinfo password and secret-looking query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_QUERY_KEYS.match(k) for k, _ in pairs):
            query = urlencode([(k, MASK if _SECRET_QUERY_KEYS.match(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
