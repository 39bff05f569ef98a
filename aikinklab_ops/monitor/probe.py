"""One probe round: the health endpoint and each critical page, once, timed.

Probes do not retry: a monitor measures what a visitor gets, and a retry would hide the very
blips the error rate is there to count. The health answer is judged by verify's own
``judge_health``, so the monitor and the post-deploy check can never disagree about "healthy".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from aikinklab_ops.http import describe_transport_error
from aikinklab_ops.monitor.settings import MonitorSettings
from aikinklab_ops.report import Status
from aikinklab_ops.secrets import Redactor
from aikinklab_ops.verify.health import judge_health
from aikinklab_ops.verify.settings import PageSpec
from aikinklab_ops.verify.urls import join


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
    values = [v for _, v in parse_qsl(parts.query, keep_blank_values=False) if len(v) >= 4]
    if parts.password:
        values.append(parts.password)
    redact = Redactor(values)
    return lambda text: redact(text)


def _get(
    session: requests.Session, url: str, timeout_s: float, clock: Clock
) -> tuple[requests.Response | None, float, str | None]:
    t0 = clock()
    try:
        response = session.get(url, timeout=timeout_s, allow_redirects=True)
    except requests.RequestException as err:
        return None, (clock() - t0) * 1000, describe_transport_error(err, url)
    return response, (clock() - t0) * 1000, None


def probe_health(session: requests.Session, settings: MonitorSettings, t: datetime, clock: Clock) -> Probe:
    url = join(settings.url, settings.health.path)
    site = settings.site
    response, ms, error = _get(session, url, settings.timeout_s, clock)
    if response is None:
        return Probe(t, site, "health", settings.health.path, False, None, error=_scrubber(settings.url)(error or ""))
    verdict = judge_health(response.status_code, response.headers, response.content, settings.health)
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
    response, ms, error = _get(session, url, settings.timeout_s, clock)
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
    if page.contains and page.contains not in response.content.decode("utf-8", "replace"):
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
