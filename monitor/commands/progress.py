"""Progress of a long command on stderr: a redrawn status line on a terminal, else periodic lines.

Stdout stays for results (tables, JSON, CSV), so progress never mixes with them.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30
TTY_REFRESH_S = 0.2  # redraws per second a terminal can show without flicker
LOG_EVERY_S = 10.0  # a line every this often when stderr is a file or a pipe


class Progress:
    """Report ``done`` out of ``total`` (or an open-ended count) with a short status text.

    Parameters
    ----------
    label : str
        What is being done ("replay", "recording").
    total : int or None
        Number of units when known (a bar and a percentage), None for an open-ended count.
    stream : text file, optional
        Where to write; stderr by default.
    """

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started_s = time.monotonic()
        self._last_s = -float("inf")
        self._drawn = False

    def update(self, done: int, status: str = "", force: bool = False) -> None:
        """Show progress; throttled, so it can be called for every unit."""
        now = time.monotonic()
        if not force and now - self._last_s < (TTY_REFRESH_S if self.tty else LOG_EVERY_S):
            return
        self._last_s = now
        line = f"{self.label}: {self._amount(done)}{'  ' + status if status else ''}"
        if self.tty:
            self.stream.write(f"\r\x1b[2K{line}")
            self._drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def done(self, summary: str) -> None:
        """End the status line with a final summary."""
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[2K")
        self.stream.write(f"{self.label}: {summary}\n")
        self.stream.flush()

    def _amount(self, done: int) -> str:
        elapsed = f"{time.monotonic() - self.started_s:.0f} s"
        if not self.total:
            return elapsed  # open-ended: the caller's status says what was done
        fraction = min(1.0, done / self.total)
        bar = "#" * round(fraction * BAR_WIDTH)
        return f"[{bar:<{BAR_WIDTH}}] {fraction:4.0%} {done}/{self.total} ({elapsed})"
