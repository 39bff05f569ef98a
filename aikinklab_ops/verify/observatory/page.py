"""The page as the Observatory reads it: headers joined as node joins them, and the body's tags.

The Observatory runs on node, whose HTTP client joins a repeated header into one value with
``", "`` (so ``X-Frame-Options`` sent twice arrives as ``SAMEORIGIN, SAMEORIGIN`` and is graded
invalid), keeps only the first of a few singleton headers, and keeps ``Set-Cookie`` lines apart.
Grading from the same joined values is what makes our grade equal to its grade.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

# node's lib/_http_incoming.js: a repeat of these is dropped, the first one wins.
_NODE_FIRST_WINS = frozenset(
    {
        "age",
        "authorization",
        "content-length",
        "content-type",
        "etag",
        "expires",
        "from",
        "host",
        "if-modified-since",
        "if-unmodified-since",
        "last-modified",
        "location",
        "max-forwards",
        "proxy-authorization",
        "referer",
        "retry-after",
        "server",
        "user-agent",
    }
)


@dataclass(frozen=True)
class Headers:
    """Response headers keyed by lower-case name, each repeated header joined as node does."""

    values: dict[str, str]
    set_cookie: tuple[str, ...]
    counts: dict[str, int]

    def get(self, name: str) -> str | None:
        return self.values.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.values

    def count(self, name: str) -> int:
        """How many lines of this header the server sent."""
        return self.counts.get(name.lower(), 0)


def join_headers(lines: Iterable[tuple[str, str]]) -> Headers:
    values: dict[str, str] = {}
    counts: dict[str, int] = {}
    cookies: list[str] = []
    for raw_name, value in lines:
        name = raw_name.strip().lower()
        counts[name] = counts.get(name, 0) + 1
        if name == "set-cookie":
            cookies.append(value)
        elif name not in values:
            values[name] = value
        elif name == "cookie":
            values[name] += "; " + value
        elif name not in _NODE_FIRST_WINS:
            values[name] += ", " + value
    return Headers(values, tuple(cookies), counts)


@dataclass(frozen=True)
class Script:
    src: str | None
    integrity: str | None
    crossorigin: str | None


@dataclass
class Body:
    """What the grader reads from the HTML: ``<meta>`` policies and ``<script>`` tags."""

    # Each <meta http-equiv="Content-Security-Policy"> is a policy of its own.
    meta_csp: list[str] = field(default_factory=list)
    # The last <meta name="referrer"> / <meta http-equiv="Referrer-Policy">, as the Observatory keeps it.
    meta_referrer: str | None = None
    scripts: list[Script] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.body = Body()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v for k, v in attrs}
        if tag == "meta":
            content = a.get("content")
            equiv = (a.get("http-equiv") or "").strip().lower()
            if "http-equiv" in a and content is not None:
                if equiv == "content-security-policy":
                    self.body.meta_csp.append(content)
                elif equiv == "referrer-policy":
                    self.body.meta_referrer = content
            elif (a.get("name") or "").strip().lower() == "referrer" and content is not None:
                self.body.meta_referrer = content
        elif tag == "script":
            self.body.scripts.append(Script(a.get("src"), a.get("integrity"), a.get("crossorigin")))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def parse_body(html: str) -> Body:
    parser = _Parser()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's reaction to some broken markup
        pass
    return parser.body


def is_html(content_type: str | None) -> bool:
    return bool(content_type) and "text/html" in str(content_type).lower()


def join_optional_headers(headers: Sequence[tuple[str, str]] | None) -> Headers | None:
    return None if headers is None else join_headers(headers)
