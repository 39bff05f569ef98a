"""One probe round: the health endpoint and each critical page, once, timed.

Probes do not retry: a monitor measures what a visitor gets, and a retry would hide the very
blips the error rate is there to count. The health answer is judged by verify's own
``judge_health``, so the monitor and the post-deploy check can never disagree about "healthy".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import urllib3

from aikinklab_ops.http import describe_transport_error
from aikinklab_ops.monitor.settings import MonitorSettings
from aikinklab_ops.report import Status
from aikinklab_ops.secrets import Redactor
from aikinklab_ops.verify.health import judge_health
from aikinklab_ops.verify.settings import PageSpec
from aikinklab_ops.verify.urls import join, safe


@dataclass(frozen=True)
class Probe:
    """One request's outcome, as kept in the history file."""

    t: datetime  # the round's start: probes of one round share it
    site: str  # the monitored URL (secret-free), so one history can hold several sites
    target: str  # "health" or "page"
    name: str
    ok: bool
    ms: float | None  # None when no answer came
    http_status: int | None = None
    degraded: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "t": self.t.isoformat(timespec="milliseconds"),
            "site": self.site,
            "target": self.target,
            "name": self.name,
            "ok": self.ok,
            "ms": None if self.ms is None else round(self.ms, 1),
            "http_status": self.http_status,
        }
        if self.degraded:
            data["degraded"] = True
        if self.error:
            data["error"] = self.error
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Probe:
        """Raises ``ValueError``/``KeyError``/``TypeError`` for a line that is not a probe."""
        t = datetime.fromisoformat(str(data["t"]))
        if t.tzinfo is None:
            raise ValueError("timestamp without a time zone")
        ms = data.get("ms")
        status = data.get("http_status")
        if not isinstance(data["ok"], bool):
            raise TypeError("ok is not a boolean")
        # json.loads reads NaN and Infinity: one such line would poison the p95 for the whole window.
        if ms is not None and (isinstance(ms, bool) or not math.isfinite(float(ms)) or float(ms) < 0):
            raise ValueError(f"ms is not a response time: {ms!r}")
        return cls(
            t=t,
            site=str(data["site"]),
            target=str(data["target"]),
            name=str(data["name"]),
            ok=data["ok"],
            ms=float(ms) if ms is not None else None,
            http_status=int(status) if status is not None else None,
            degraded=bool(data.get("degraded", False)),
            error=str(data["error"]) if data.get("error") else None,
        )


Clock = Callable[[], float]


def _scrubber(url: str) -> Callable[[str], str]:
    """Mask the URL's query values and password wherever an error message repeats them."""
    parts = urlsplit(url)
    values = [v for _, v in parse_qsl(parts.query)]
    if parts.password:
        values.append(parts.password)
    return Redactor(values)  # which ignores values too short to mask safely


# An answer is read for at most this many bytes: a health body or a page is far smaller, and a
# runaway stream must not fill the runner's memory.
MAX_BODY_BYTES = 4 * 1024 * 1024
_CHUNK = 65536


class _Late(Exception):
    """The answer was still arriving when the probe's timeout ran out."""


def _read_body(response: requests.Response, deadline: float, clock: Clock) -> bytes:
    """The body, at most ``MAX_BODY_BYTES``; raises ``_Late`` once ``deadline`` has passed.

    requests' ``timeout`` bounds each socket read, not the answer: a server that trickles a byte
    at a time would hold the probe, and the whole window, far past ``timeout_s``.
    """
    raw = response.raw
    read1 = getattr(raw, "read1", None)  # urllib3 >= 2.3: whatever has arrived, without waiting for more
    body = bytearray()
    while len(body) < MAX_BODY_BYTES:
        if clock() > deadline:
            raise _Late
        chunk = read1(_CHUNK, decode_content=True) if read1 else raw.read(_CHUNK, decode_content=True)
        if not chunk:
            break
        body += chunk
    if clock() > deadline:
        raise _Late
    return bytes(body[:MAX_BODY_BYTES])


def _get(
    session: requests.Session, url: str, timeout_s: float, clock: Clock, *, follow: bool
) -> tuple[requests.Response | None, bytes, float, str | None]:
    """One timed request: the answer and its body, or why there was none, all within ``timeout_s``."""
    t0 = clock()
    try:
        response = session.get(url, timeout=timeout_s, allow_redirects=follow, stream=True)
    except requests.RequestException as err:
        return None, b"", (clock() - t0) * 1000, describe_transport_error(err, url)
    try:
        body = _read_body(response, t0 + timeout_s, clock)
    except _Late:
        return None, b"", (clock() - t0) * 1000, f"{safe(url)} did not answer in time ({timeout_s:g} s)"
    except urllib3.exceptions.ReadTimeoutError:
        return None, b"", (clock() - t0) * 1000, f"{safe(url)} did not answer in time"
    except (urllib3.exceptions.HTTPError, OSError) as err:
        return None, b"", (clock() - t0) * 1000, f"{safe(url)} broke off its answer ({type(err).__name__})"
    finally:
        response.close()
    return response, body, (clock() - t0) * 1000, None


def probe_health(session: requests.Session, settings: MonitorSettings, t: datetime, clock: Clock) -> Probe:
    url = join(settings.url, settings.health.path)
    site = settings.site
    # Like verify's health check: a redirect is not followed (a 3xx is not a healthy answer).
    response, body, ms, error = _get(session, url, settings.timeout_s, clock, follow=False)
    if response is None:
        return Probe(t, site, "health", settings.health.path, False, None, error=_scrubber(settings.url)(error or ""))
    verdict = judge_health(response.status_code, response.headers, body, settings.health)
    ok = verdict.status in (Status.PASS, Status.WARN)
    summary = _scrubber(settings.url)(verdict.summary)
    return Probe(
        t,
        site,
        "health",
        settings.health.path,
        ok,
        ms,
        http_status=response.status_code,
        degraded=verdict.status is Status.WARN,
        error=None if ok else summary,
    )


def probe_page(
    session: requests.Session, settings: MonitorSettings, page: PageSpec, t: datetime, clock: Clock
) -> Probe:
    url = join(settings.url, page.path)
    site = settings.site
    response, body, ms, error = _get(session, url, settings.timeout_s, clock, follow=page.follows_redirects)
    if response is None:
        return Probe(t, site, "page", page.name, False, None, error=_scrubber(settings.url)(error or ""))
    if response.status_code != page.expect_status:
        return Probe(
            t,
            site,
            "page",
            page.name,
            False,
            ms,
            response.status_code,
            error=f"HTTP {response.status_code}, expected {page.expect_status}",
        )
    if page.contains and page.contains not in body.decode("utf-8", "replace"):
        return Probe(
            t,
            site,
            "page",
            page.name,
            False,
            ms,
            response.status_code,
            error=f"the page does not contain {page.contains!r}",
        )
    return Probe(t, site, "page", page.name, True, ms, response.status_code)


def probe_round(
    session: requests.Session, settings: MonitorSettings, t: datetime, clock: Clock = time.perf_counter
) -> list[Probe]:
    probes = [probe_health(session, settings, t, clock)]
    probes += [probe_page(session, settings, page, t, clock) for page in settings.pages]
    return probes
