"""URL and host helpers the checks share: building request URLs, recognising an IP-literal host."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from aikinklab_ops.secrets import redact_url


def join(base: str, path: str) -> str:
    """``base`` + ``path``, keeping the base's path prefix and query.

    A preview URL can carry a path prefix or a query (a protection-bypass token) that every request
    needs; ``urljoin`` would drop both.
    """
    b = urlsplit(base)
    p = urlsplit(path)
    query = "&".join(q for q in (p.query, b.query) if q)
    return urlunsplit((b.scheme, b.netloc, b.path.rstrip("/") + (p.path or "/"), query, ""))


def safe(url: str) -> str:
    """The URL as it may appear in a report."""
    return redact_url(url)


def is_ip(host: str) -> bool:
    """Whether ``host`` is an IP literal: it has no name to resolve, and TLS sends it no SNI."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
