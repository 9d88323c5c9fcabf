"""Progress of long jobs: a tqdm bar on a terminal, a plain line every 30 s elsewhere.

A bar redrawn in place is unreadable in a CI log or a ``nohup`` file, and a
job that prints nothing for minutes looks hung; so when stderr is not a
terminal the same calls print one line at most every ``interval_s``::

    vae train: 1200/12000 steps (10%), 3.10 steps/s, 6 min 27 s, loss 0.42, acc 0.913

No line is printed at the start or the end, so a job that fails early still
ends with its one-line error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO

PLAIN_INTERVAL_S = 30.0


class PlainProgress:
    """The part of tqdm's interface the jobs use, printing a line every ``interval_s``."""

    def __init__(self, *, total: int | None, desc: str, unit: str, initial: int = 0,
                 stream: TextIO | None = None, interval_s: float = PLAIN_INTERVAL_S):
        self.total, self.desc, self.unit = total, desc, unit
        self.n = self._first = initial
        self.postfix = ""
        self._stream = stream
        self._interval_s = interval_s
        self._started = self._last_line = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last_line >= self._interval_s:
            self._last_line = now
            print(self.format_line(now), file=self._stream or sys.stderr, flush=True)

    def format_line(self, now: float) -> str:
        elapsed = now - self._started
        done = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        line = f"{self.desc}: {done} {self.unit}s"
        if self.total:
            line += f" ({100.0 * self.n / self.total:.0f}%)"
        rate = (self.n - self._first) / max(elapsed, 1e-9)
        line += f", {rate:.3g} {self.unit}s/s, {format_duration(elapsed)}"
        return line + (f", {self.postfix}" if self.postfix else "")

    def set_postfix(self, ordered_dict: dict | None = None, **fields) -> None:
        fields = {**(ordered_dict or {}), **fields}
        self.postfix = ", ".join(f"{k} {v}" for k, v in fields.items())

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def close(self) -> None:
        pass

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Silent(PlainProgress):
    def update(self, n: int = 1) -> None:
        self.n += n


def progress_bar(*, total: int | None, desc: str, unit: str, initial: int = 0,
                 enabled: bool = True, stream: TextIO | None = None):
    """A progress reporter for ``total`` units of work.

    Parameters
    ----------
    total : int or None
        Units of work in all (None: unknown).
    desc, unit : str
        What runs (``"vae train"``) and what it counts (``"step"``).
    initial : int
        Units already done (a resumed run).
    enabled : bool
        False reports nothing (library use, tests).
    stream : file, optional
        Where to write; stderr by default.

    Returns
    -------
    tqdm.tqdm or PlainProgress
        A tqdm bar when the stream is a terminal, else a PlainProgress.
    """
    stream = stream or sys.stderr
    if not enabled:
        return _Silent(total=total, desc=desc, unit=unit, initial=initial, stream=stream)
    if stream.isatty():
        from tqdm.auto import tqdm  # noqa: PLC0415

        return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=stream,
                    dynamic_ncols=True)
    return PlainProgress(total=total, desc=desc, unit=unit, initial=initial, stream=stream)


def track(items: Iterable, *, total: int | None = None, desc: str, unit: str,
          enabled: bool = True) -> Iterator:
    """Yield ``items``, reporting each as one unit of progress."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    with progress_bar(total=total, desc=desc, unit=unit, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.update(1)


def format_duration(seconds: float) -> str:
    """``"42 s"``, ``"6 min 27 s"``, ``"2 h 05 min"``."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
