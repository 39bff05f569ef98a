"""Faults the sandbox can be told to inject, so a client's unhappy paths get exercised for real.

Each fault is armed for a number of occurrences (``count``; ``None`` keeps it armed until
``clear``), optionally only for requests whose method and path match. The same registry is driven
in-process (``sandbox.faults.rate_limit(count=3)``) and over HTTP (``POST /_sandbox/faults`` with
``{"kind": "rate_limit", "count": 3}``), so an end-to-end test that runs the CLI as a subprocess
can stage the same failures as an in-process one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = (
    "missing_files",
    "rate_limit",
    "server_error",
    "build_error",
    "build_blocked",
    "build_stuck",
    "drop_upload",
    "drop_response",
    "promote_queued",
)
SERVER_ERROR_STATUSES = frozenset({500, 502, 503, 504})
PROMOTE_OUTCOMES = frozenset({"succeeded", "failed"})


class FaultError(ValueError):
    """A fault specification that cannot be armed; the message says which field is wrong."""


@dataclass
class Fault:
    kind: str
    count: int | None = 1
    method: str | None = None
    path: str | None = None  # a regular expression searched in the request path
    status: int | None = None
    retry_after: float = 1.0
    error_code: str | None = None
    error_message: str | None = None
    after_bytes: int = 1
    outcome: str = "succeeded"
    delay: float = 0.05
    shas: tuple[str, ...] = ()
    fired: int = field(default=0)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["shas"] = list(self.shas)
        return data


class Faults:
    """The armed faults of one sandbox; safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self.history: list[dict[str, Any]] = []

    # -- arming -----------------------------------------------------------------------------------

    def missing_files(self, *, count: int | None = 1, shas: tuple[str, ...] | list[str] = ()) -> Fault:
        """The next create answers ``missing_files`` as if the store had lost the files.

        Without ``shas`` every file the body references by ``sha`` is reported missing.
        """
        return self._arm(Fault("missing_files", count, "POST", r"^/v13/deployments$", shas=tuple(shas)))

    def rate_limit(
        self, *, count: int | None = 3, retry_after: float = 1.0, method: str | None = None, path: str | None = None
    ) -> Fault:
        """A 429 storm: the next ``count`` matching API requests answer 429 with ``Retry-After``.

        ``Retry-After`` is sent in whole seconds, rounded up, as HTTP requires.
        """
        if retry_after < 0:
            raise FaultError("retry_after must be zero or more seconds")
        return self._arm(Fault("rate_limit", count, method, path, status=429, retry_after=retry_after))

    def server_error(
        self, *, status: int = 500, count: int | None = 1, method: str | None = None, path: str | None = None
    ) -> Fault:
        """The next ``count`` matching requests answer ``status`` (500, 502, 503 or 504)."""
        if status not in SERVER_ERROR_STATUSES:
            raise FaultError(f"status must be one of {sorted(SERVER_ERROR_STATUSES)}, got {status}")
        return self._arm(Fault("server_error", count, method, path, status=status))

    def build_error(
        self,
        *,
        count: int | None = 1,
        error_code: str = "BUILD_FAILED",
        error_message: str = 'Command "npm run build" exited with 1',
    ) -> Fault:
        """The next deployment created fails its build: ``readyState`` ERROR with the given code."""
        return self._arm(Fault("build_error", count, error_code=error_code, error_message=error_message))

    def build_blocked(
        self, *, count: int | None = 1, error_message: str = "The deployment was blocked by the team's policy"
    ) -> Fault:
        """The next deployment created never builds: it leaves QUEUED as BLOCKED."""
        return self._arm(Fault("build_blocked", count, error_message=error_message))

    def build_stuck(self, *, count: int | None = 1) -> Fault:
        """The next deployment created stays BUILDING until it is canceled."""
        return self._arm(Fault("build_stuck", count))

    def drop_upload(self, *, count: int | None = 1, after_bytes: int = 1, path: str = r"^/v2/files$") -> Fault:
        """The next upload's connection is closed after ``after_bytes`` of its body, with no answer."""
        if after_bytes < 0:
            raise FaultError("after_bytes must be zero or more")
        return self._arm(Fault("drop_upload", count, "POST", path, after_bytes=after_bytes))

    def drop_response(self, *, count: int | None = 1, method: str | None = None, path: str | None = None) -> Fault:
        """The next matching request is carried out, then its connection is reset before the answer.

        What a client sees when a create succeeded but the answer was lost on the way back: the
        case that makes a retrying client create two deployments unless it looks first.
        """
        return self._arm(Fault("drop_response", count, method, path))

    def promote_queued(self, *, count: int | None = 1, outcome: str = "succeeded", delay: float = 0.05) -> Fault:
        """The next promote answers 202; its job runs pending -> in-progress -> ``outcome``.

        Each step takes ``delay`` seconds; the aliases move only when the job succeeds.
        """
        if outcome not in PROMOTE_OUTCOMES:
            raise FaultError(f"outcome must be one of {sorted(PROMOTE_OUTCOMES)}, got {outcome!r}")
        if delay < 0:
            raise FaultError("delay must be zero or more seconds")
        return self._arm(
            Fault("promote_queued", count, "POST", r"^/v10/projects/[^/]+/promote/", outcome=outcome, delay=delay)
        )

    def add(self, spec: Mapping[str, Any]) -> Fault:
        """Arm a fault from its JSON form, ``{"kind": ..., <the keyword arguments of that kind>}``."""
        if not isinstance(spec, Mapping):
            raise FaultError("a fault is a JSON object with a 'kind'")
        kind = spec.get("kind")
        arm: dict[str, Callable[..., Fault]] = {
            "missing_files": self.missing_files,
            "rate_limit": self.rate_limit,
            "server_error": self.server_error,
            "build_error": self.build_error,
            "build_blocked": self.build_blocked,
            "build_stuck": self.build_stuck,
            "drop_upload": self.drop_upload,
            "drop_response": self.drop_response,
            "promote_queued": self.promote_queued,
        }
        if kind not in arm:
            raise FaultError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        kwargs = {k: v for k, v in spec.items() if k != "kind"}
        count = kwargs.get("count", 1)
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise FaultError("count must be a positive integer, or null to stay armed until cleared")
        try:
            return arm[str(kind)](**kwargs)
        except TypeError as err:
            raise FaultError(f"bad arguments for fault {kind!r}: {err}") from err

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._armed)

    # -- firing -----------------------------------------------------------------------------------

    def take(self, kind: str, method: str = "", path: str = "") -> Fault | None:
        """Consume one occurrence of the first armed ``kind`` fault matching the request, if any."""
        with self._lock:
            for fault in self._armed:
                if fault.kind == kind and fault.matches(method, path):
                    fault.fired += 1
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self._armed.remove(fault)
                    self.history.append({"kind": kind, "method": method, "path": path})
                    return fault
        return None

    def _arm(self, fault: Fault) -> Fault:
        if fault.count is not None and fault.count < 1:
            raise FaultError("count must be a positive integer, or None to stay armed until cleared")
        if fault.path is not None:
            try:
                re.compile(fault.path)
            except re.error as err:
                raise FaultError(f"path is not a valid regular expression: {err}") from err
        with self._lock:
            self._armed.append(fault)
        return fault
