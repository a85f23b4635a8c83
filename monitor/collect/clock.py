"""Device sample counter → UTC: an offset-plus-drift fit on the lower envelope of arrivals.

A packet arrives after its last sample was taken, delayed by the radio, the stacks and the
scheduler; those delays are positive and vary by tens of ms. A least-squares line through
arrival times would carry the mean delay and its noise. The least-delayed packets instead
trace a line below all others: the lower convex hull of (counter, arrival) points. Of its
edges, the one spanning the mean counter minimises the summed distance to the points while
staying below all of them (Moon, Skelly & Towsley 1999, "Estimation and removal of clock
skew from network delay measurements", IEEE INFOCOM, §III). Its slope is the device's
sample period in UTC (which carries the crystal drift), its intercept the offset.

Counters only grow, so the hull is built incrementally (Andrew's monotone chain): O(1)
amortised per packet, and only hull vertices are kept. To follow drift that changes with
temperature, a second hull starts half a window later and takes over once it spans half
a window itself.
"""

from __future__ import annotations

import heapq

from monitor.types import NS_PER_S

WINDOW_S = 600.0  # each fit spans between 5 and 10 min of device time
# Streams interleave out of device-time order (each has its own jitter); points wait this
# long in device time before they join the hull, which needs increasing x.
REORDER_NS = 250_000_000


class _Hull:
    """Incremental lower hull of points with increasing x, plus their mean x."""

    def __init__(self, first_x: int) -> None:
        self.first_x = first_x
        self.vertices: list[tuple[int, float]] = []
        self.sum_x = 0.0
        self.count = 0

    def add(self, x: int, y: float) -> None:
        self.sum_x += x
        self.count += 1
        hull = self.vertices
        if hull and x <= hull[-1][0]:  # out of order beyond the reorder horizon: skip it
            return
        while len(hull) >= 2:
            (ax, ay), (bx, by) = hull[-2], hull[-1]
            if (bx - ax) * (y - ay) - (by - ay) * (x - ax) <= 0:
                hull.pop()
            else:
                break
        hull.append((x, y))

    def line(self) -> tuple[float, float]:
        """(offset, slope) of the hull edge spanning the mean x."""
        hull = self.vertices
        if len(hull) == 1:
            return hull[0][1], 0.0
        mean_x = self.sum_x / self.count
        index = next((i for i in range(1, len(hull)) if hull[i][0] >= mean_x), len(hull) - 1)
        (x0, y0), (x1, y1) = hull[index - 1], hull[index]
        slope = (y1 - y0) / (x1 - x0)
        return y0 - slope * x0, slope


class DeviceClock:
    """Map device time (a stream's unwrapped sample counter over its nominal rate) to UTC ns.

    Every stream of a wearable counts samples from the same boot on the same crystal
    (docs/protocol.md §2.2), so all of them feed one fit: the sparse IMU stream borrows
    the precision of the dense EMG stream.

    Examples
    --------
    >>> clock = DeviceClock()
    >>> for k in range(0, 20_000, 25):
    ...     device_ns = (k + 24) * 1_000_000  # last sample of a 25-sample packet at 1 kHz
    ...     clock.add(device_ns, 1_000_000_000 + device_ns + 3_000_000 * (k % 7 == 0))
    >>> clock.to_utc_ns(0)
    1000000000
    """

    def __init__(self) -> None:
        self._half_window_ns = round(WINDOW_S / 2 * NS_PER_S)
        self.reset()

    def reset(self) -> None:
        """Forget every point (the device rebooted and its counters restarted)."""
        self._ref_device_ns: int | None = None
        self._ref_ns = 0
        self._active: _Hull | None = None
        self._next: _Hull | None = None
        self._offset_ns = 0.0  # residual line: arrival - device time = offset + slope · device time
        self._slope = 0.0  # UTC ns per device ns, minus 1
        self._pending: list[tuple[int, float]] = []  # heap of (x, y) waiting for the reorder horizon
        self._max_x = 0

    @property
    def drift_ppm(self) -> float:
        """Fitted device clock error, ppm (positive: the device clock runs fast)."""
        return (1.0 / (1.0 + self._slope) - 1.0) * 1e6

    def add(self, device_ns: int, arrival_ns: int) -> None:
        """Add the arrival (UTC ns) of a packet whose last sample was taken at ``device_ns``."""
        if self._ref_device_ns is None or self._active is None:
            self._ref_device_ns, self._ref_ns = device_ns, arrival_ns
            self._active = _Hull(0)
        x = device_ns - self._ref_device_ns
        y = float(arrival_ns - self._ref_ns - x)
        heapq.heappush(self._pending, (x, y))
        self._max_x = max(self._max_x, x)
        changed = False
        while self._pending and self._pending[0][0] <= self._max_x - REORDER_NS:
            self._commit(*heapq.heappop(self._pending))
            changed = True
        if self._active.vertices:
            if changed:
                self._offset_ns, self._slope = self._active.line()
        else:  # under REORDER_NS of data: the lowest point so far, nominal rate
            self._offset_ns, self._slope = min(y for _, y in self._pending), 0.0

    def _commit(self, x: int, y: float) -> None:
        assert self._active is not None
        self._active.add(x, y)
        if self._next is None and x - self._active.first_x >= self._half_window_ns:
            self._next = _Hull(x)
        if self._next is not None:
            self._next.add(x, y)
            if x - self._next.first_x >= self._half_window_ns:
                self._active, self._next = self._next, None

    def to_utc_ns(self, device_ns: int) -> int:
        """UTC ns of device time ``device_ns`` on the fitted line."""
        if self._ref_device_ns is None:
            raise RuntimeError("DeviceClock.to_utc_ns before any add()")
        dx = device_ns - self._ref_device_ns
        return self._ref_ns + dx + round(self._offset_ns + self._slope * dx)


def device_time_ns(counter: int, nominal_rate_hz: float) -> int:
    """Device time of sample ``counter`` of a stream at ``nominal_rate_hz``, ns since boot."""
    return round(counter * NS_PER_S / nominal_rate_hz)
