"""Run the verification checks at once and gather one Report.

The checks are independent network probes, so they run on a thread pool: the verification takes
about as long as its slowest check, not the sum. A check that cannot run becomes an ``error``
result next to the others instead of hiding them.
"""

from __future__ import annotations

import importlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import requests

from aikinklab_ops.config import Config
from aikinklab_ops.config.loader import defaults
from aikinklab_ops.errors import InputError, OpsError
from aikinklab_ops.http import make_session
from aikinklab_ops.progress import NullProgress, Progress
from aikinklab_ops.report import CheckResult, Report, Status
from aikinklab_ops.report.formats import printable
from aikinklab_ops.secrets import redact_url
from aikinklab_ops.verify.dns import Resolver, check_dns, system_resolver
from aikinklab_ops.verify.health import check_health
from aikinklab_ops.verify.latency import ERROR_RATE, LATENCY, check_latency_and_errors
from aikinklab_ops.verify.pages import check_pages
from aikinklab_ops.verify.settings import CHECK_NAMES, VerifySettings, normalize_url, validate_checks
from aikinklab_ops.verify.threads import Task
from aikinklab_ops.verify.tls import check_tls, trust_store

SessionFactory = Callable[..., requests.Session]
KIND = "verify"
_NO_PROGRESS = NullProgress()


class _LockedProgress:
    """Progress shared by the check threads; one line at a time."""

    def __init__(self, inner: Progress) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._silent = False

    def silence(self) -> None:
        with self._lock:
            self._silent = True

    def start(self, label: str, total: int | None = None, unit: str = "") -> None:
        with self._lock:
            if not self._silent:
                self._inner.start(label, total, unit)

    def advance(self, n: int = 1, *, note: str | None = None) -> None:
        with self._lock:
            if not self._silent:
                self._inner.advance(n, note=note)

    def message(self, text: str) -> None:
        with self._lock:
            if not self._silent:
                self._inner.message(printable(text))  # it can quote what the server sent

    def finish(self, note: str | None = None) -> None:
        with self._lock:
            if not self._silent:
                self._inner.finish(note)


class _Stopped(Exception):
    """The verification was abandoned (Ctrl-C) while a check waited."""


def _guard(name: str, fn: Callable[[], CheckResult]) -> CheckResult:
    t0 = time.monotonic()
    try:
        result = fn()
    except OpsError as err:
        result = CheckResult(name, Status.ERROR, str(err), {"error": type(err).__name__})
    except Exception as err:  # a bug in one check must not hide the others' results
        result = CheckResult(name, Status.ERROR, f"the {name} check crashed: {type(err).__name__}: {err}", {})
    return replace(result, duration_s=time.monotonic() - t0)


def _security_headers(url: str, session: requests.Session, settings: VerifySettings) -> CheckResult:
    try:
        module: Any = importlib.import_module("aikinklab_ops.verify.headers")
    except ImportError:
        return CheckResult(
            "security-headers", Status.ERROR, "the security-headers check is not installed in this build", {}
        )
    result: CheckResult = module.check_security_headers(
        url, session, settings.security_headers, timeout=settings.timeout_s
    )
    return result


def _web_vitals(vitals: Sequence[Path], config: Config | None) -> CheckResult:
    if not vitals:
        return CheckResult("web-vitals", Status.SKIP, "no --vitals report given")
    try:
        module: Any = importlib.import_module("aikinklab_ops.gates.performance")
    except ImportError:
        return CheckResult("web-vitals", Status.ERROR, "the performance evaluator is not installed in this build", {})
    cfg = config if config is not None else Config(data=defaults())
    result: CheckResult = module.check_performance(list(vitals), cfg, name="web-vitals")
    return result


def selected_checks(settings: VerifySettings, checks: Sequence[str] | None, vitals: Sequence[Path]) -> tuple[str, ...]:
    """The checks to run, in report order; ``--vitals`` adds web-vitals to the configured ones."""
    if checks is not None:
        wanted = validate_checks(tuple(checks), where="--only")
    else:
        wanted = validate_checks(tuple(settings.checks), where="verify.checks")
        if vitals and "web-vitals" not in wanted:
            wanted = (*wanted, "web-vitals")
    if not wanted:
        raise InputError("no checks to run", hint="list checks in verify.checks or pass --only")
    return tuple(n for n in CHECK_NAMES if n in wanted)


def run_verification(
    target_url: str,
    settings: VerifySettings,
    *,
    checks: Sequence[str] | None = None,
    ca_bundle: Path | None = None,
    vitals: Sequence[Path] = (),
    config: Config | None = None,
    session_factory: SessionFactory = make_session,
    resolver: Resolver = system_resolver,
    progress: Progress = _NO_PROGRESS,
) -> Report:
    """Verify the deployment at ``target_url``; the Report's ``ok`` says whether to trust it."""
    url = normalize_url(target_url)
    names = selected_checks(settings, checks, vitals)
    if ca_bundle is not None:
        trust_store(ca_bundle)  # an unreadable bundle is a usage error, before any check runs
    for path in vitals:
        if not Path(path).is_file():
            raise InputError(
                f"{path}: no such file (--vitals)", hint="pass a Lighthouse JSON report or a web-vitals file"
            )
    verify: bool | str = str(ca_bundle) if ca_bundle else True
    timeout = settings.timeout_s
    shared = _LockedProgress(progress)
    stop = threading.Event()

    def interruptible_sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise _Stopped("verification stopped")

    def session(pool: int = 10) -> requests.Session:
        return session_factory(timeout=timeout, retries=0, verify=verify, pool_maxsize=pool)

    def latency_pair() -> tuple[CheckResult, CheckResult]:
        t0 = time.monotonic()
        try:
            lat, err = check_latency_and_errors(
                url,
                session(settings.latency.concurrency),
                settings.pages,
                settings.latency,
                max_redirects=settings.max_redirects,
                timeout=timeout,
            )
        except Exception as exc:  # as in _guard: both results say why sampling could not run
            why = str(exc) if isinstance(exc, OpsError) else f"sampling crashed: {type(exc).__name__}: {exc}"
            lat = CheckResult(LATENCY, Status.ERROR, why)
            err = CheckResult(ERROR_RATE, Status.ERROR, why)
        took = time.monotonic() - t0
        return replace(lat, duration_s=took), replace(err, duration_s=took)

    jobs: dict[str, Callable[[], CheckResult]] = {
        "health": lambda: check_health(
            url, session(), settings.health, timeout=timeout, progress=shared, sleep=interruptible_sleep
        ),
        "pages": lambda: check_pages(
            url,
            session(settings.concurrency),
            settings.pages,
            max_redirects=settings.max_redirects,
            timeout=timeout,
            concurrency=settings.concurrency,
        ),
        "security-headers": lambda: _security_headers(url, session(), settings),
        "tls": lambda: check_tls(url, settings.tls, ca_bundle=ca_bundle, timeout=timeout),
        "dns": lambda: check_dns(url, settings.dns, resolver=resolver, timeout=timeout),
        "web-vitals": lambda: _web_vitals(vitals, config),
    }
    started = datetime.now(timezone.utc)
    t0 = time.monotonic()
    results: dict[str, CheckResult] = {}
    units = [n for n in names if n not in (LATENCY, ERROR_RATE)]
    sampling = LATENCY in names or ERROR_RATE in names
    shared.start(f"verify {redact_url(url)}", total=len(names), unit="checks")
    # Daemon threads (see ``threads``): on Ctrl-C the run ends now, not when the last probe times out.
    done: queue.SimpleQueue[Task[Any]] = queue.SimpleQueue()
    try:
        tasks: dict[Task[Any], str] = {
            Task(partial(_guard, name, jobs[name]), name=f"verify-{name}", done=done): name for name in units
        }
        pair = Task(latency_pair, name="verify-latency", done=done) if sampling else None
        for _ in range(len(tasks) + (pair is not None)):
            task = done.get()
            if task is pair:
                results[LATENCY], results[ERROR_RATE] = pair.result()
                shared.advance(2 if LATENCY in names and ERROR_RATE in names else 1, note="latency sampled")
            else:
                name = tasks[task]
                results[name] = task.result()
                shared.advance(note=f"{name}: {results[name].status.value}")
    except BaseException:
        shared.silence()  # abandoned checks must not write over the CLI's last word
        raise
    finally:
        # On Ctrl-C, stop the health retries instead of waiting out their deadline.
        stop.set()
    shared.finish()
    ordered = tuple(results[n] for n in names)
    grade = ""
    if "security-headers" in results:
        grade = str(results["security-headers"].details.get("grade") or "")
    return Report(
        kind=KIND,
        checks=ordered,
        target=redact_url(url),
        started_at=started,
        duration_s=time.monotonic() - t0,
        outputs={"grade": grade, "url": redact_url(url)},
    )
