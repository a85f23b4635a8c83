"""The one retry schedule: capped exponential backoff with full jitter.

Both retry loops use it: the BLE session between connection attempts (with a delay chosen
per error in :mod:`monitor.collect.backoff`) and the store's forwarder between sends of a
batch (which lets a server's ``Retry-After`` override it). It lives here, below both, so
that neither layer imports the other for it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with *full jitter*.

    Attempt ``k`` (0 for the first retry) waits a uniform random time in
    ``[0, min(max_s, first_s * factor**k)]``.

    Why full jitter: many clients fail together (every wearable of a home when the gateway's
    radio hiccups, every gateway of a clinic when the InfluxDB server restarts), and a jitter
    that leaves them a common floor brings them back in a crowd. Brooker's simulation of
    competing clients ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015) found
    full and decorrelated jitter far ahead of "equal" jitter (``[0.5, 1]`` of the step, which
    the forwarder used) and of a small ± fraction (which the collector used), with full
    jitter doing the least total work. Decorrelated jitter needs the previous delay as
    state; full jitter depends on the attempt number only, so one frozen value serves every
    loop. The AWS SDKs' standard retry mode uses the same rule.

    Parameters
    ----------
    first_s : float
        Cap of the first retry's wait, s (>= 0).
    max_s : float
        Cap of any wait, s (>= 0).
    factor : float
        Growth of the cap per attempt (>= 1).

    Examples
    --------
    >>> backoff = Backoff(first_s=0.5, max_s=30.0)
    >>> rng = random.Random(0)
    >>> 0.0 <= backoff.delay_s(0, rng) <= 0.5
    True
    >>> backoff.cap_s(10)
    30.0
    """

    first_s: float
    max_s: float
    factor: float = 2.0

    def __post_init__(self) -> None:
        if not (self.first_s >= 0.0 and self.max_s >= 0.0):  # also refuses NaN
            raise ValueError(f"backoff first_s and max_s must be >= 0, got {self.first_s} and {self.max_s}")
        if not self.factor >= 1.0:
            raise ValueError(f"backoff factor must be >= 1, got {self.factor}")

    def cap_s(self, attempt: int) -> float:
        """The longest wait before retry ``attempt`` (0-based), s."""
        try:
            return min(self.max_s, self.first_s * self.factor**attempt)
        except OverflowError:  # a retry loop that ran for days: long past the cap
            return self.max_s

    def delay_s(self, attempt: int, rng: random.Random, scale: float = 1.0) -> float:
        """A random wait before retry ``attempt`` (0-based), s: uniform in ``[0, scale * cap_s]``.

        ``scale`` compresses or stretches time (the collector's ``backoff_scale``).
        """
        return rng.uniform(0.0, scale * self.cap_s(attempt))


__all__ = ["Backoff"]
