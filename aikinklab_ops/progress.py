"""Progress for long work (uploads, packing archives, waiting on builds).

The library reports progress through this interface and never decides where it goes: the CLI
hands in a ``StreamProgress`` on stderr, tests and library callers get ``NullProgress``. On a
terminal the line redraws in place; in a CI log (no TTY) one line is written every few seconds,
so a log neither floods nor goes silent.
"""

from __future__ import annotations

import time
from typing import Protocol, TextIO


class Progress(Protocol):
    def start(self, label: str, total: int | None = None, unit: str = "") -> None: ...
    def advance(self, n: int = 1, *, note: str | None = None) -> None: ...
    def message(self, text: str) -> None: ...
    def finish(self, note: str | None = None) -> None: ...


class NullProgress:
    def start(self, label: str, total: int | None = None, unit: str = "") -> None:
        pass

    def advance(self, n: int = 1, *, note: str | None = None) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def finish(self, note: str | None = None) -> None:
        pass


def _human(n: float, unit: str) -> str:
    if unit != "B":
        return f"{int(n)}{(' ' + unit) if unit else ''}"
    for prefix in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or prefix == "GiB":
            return f"{n:.0f} {prefix}" if prefix == "B" else f"{n:.1f} {prefix}"
        n /= 1024
    return f"{n:.1f} GiB"


class StreamProgress:
    def __init__(self, stream: TextIO, *, tty: bool | None = None, interval_s: float = 5.0, width: int = 28) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.interval_s = interval_s
        self.width = width
        self._label = ""
        self._total: int | None = None
        self._unit = ""
        self._done = 0
        self._t0 = 0.0
        self._last = 0.0
        self._note: str | None = None

    def start(self, label: str, total: int | None = None, unit: str = "") -> None:
        self._label, self._total, self._unit, self._done = label, total, unit, 0
        self._t0 = self._last = time.monotonic()
        self._note = None
        if not self.tty:
            self.stream.write(f"{label}: started" + (f" ({_human(total, unit)})" if total else "") + "\n")
            self.stream.flush()
        else:
            self._draw()

    def _line(self) -> str:
        elapsed = time.monotonic() - self._t0
        done = _human(self._done, self._unit)
        if self._total:
            frac = min(1.0, self._done / self._total)
            if self.tty:
                filled = int(frac * self.width)
                bar = "#" * filled + "-" * (self.width - filled)
                text = f"{self._label} [{bar}] {frac:6.1%} {done}/{_human(self._total, self._unit)}"
            else:
                text = f"{self._label}: {done}/{_human(self._total, self._unit)} ({frac:.0%})"
        else:
            text = f"{self._label}: {done}"
        text += f" {elapsed:.0f}s"
        if self._note:
            text += f" — {self._note}"
        return text

    def _draw(self) -> None:
        self.stream.write("\r\x1b[K" + self._line())
        self.stream.flush()

    def advance(self, n: int = 1, *, note: str | None = None) -> None:
        self._done += n
        if note is not None:
            self._note = note
        now = time.monotonic()
        if self.tty:
            if now - self._last >= 0.1:
                self._last = now
                self._draw()
        elif now - self._last >= self.interval_s:
            self._last = now
            self.stream.write(self._line() + "\n")
            self.stream.flush()

    def message(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + text + "\n")
            self._draw()
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self, note: str | None = None) -> None:
        if note is not None:
            self._note = note
        if self.tty:
            self._draw()
            self.stream.write("\n")
        else:
            self.stream.write(self._line() + " (done)\n")
        self.stream.flush()
