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

What the hull cannot see is the delay of the least-delayed packets themselves, the link's
latency floor (a few ms): its offset carries it. Where the wearable lets the gateway read
its clock (``devices.base.ClockReader``), round trips pin the offset instead (Cristian
1989, "Probabilistic clock synchronization", Distributed Computing 3:146-158): the device
time read was latched between the gateway's send and receive, so each exchange bounds the
line from below (send) and above (receive), and the midpoint of one exchange is within half
its round-trip time (RTT) of the truth. The bounds of different exchanges intersect
(Marzullo 1984, "Maintaining the time in a distributed system", PhD thesis, Stanford): the
latest send bound and the earliest receive bound need not come from the same exchange, so a
fast request and a fast response count even when no single round trip was fast. A bound
loosens with its distance in device time from now at the tolerated error of the slope,
so fresh exchanges outweigh old ones. The slope combines the hull's with a weighted
least-squares line through the bursts' midpoints, each by its inverse variance: a young
hull's slope wanders by hundreds of ppm with the latency floor, and sub-millisecond bursts
a few seconds apart do better; over minutes the hull takes over.

Without a clock to read, the hull alone gives slope and offset, and a young hull's slope is
its weak part: the hull always ends on the latest point, so when the link is slow for a
second (a busy gateway, another wearable reconnecting) the edge spanning the mean tilts up
towards it, by hundreds of ppm over a few seconds of data. Crystals are far better than
that, so the hull's slope is combined with a prior of no drift, ±``CRYSTAL_PRIOR_SIGMA``, by
inverse variance, the line pivoting on the hull at the mean device time. After half a
minute the prior moves the slope by under 5 %. It stays one term of the combination with a
clock to read too: the burst at connect pins the offset only, and two bursts a few seconds
apart give a slope only as good as their bounds, which a slow link widens to milliseconds
(a Polar's ms-truncated clock over a busy gateway: ±1-2 ms, a slope off by up to 1000 ppm).
Bursts of sub-millisecond bounds soon outweigh it (ten, 2 s apart at ±0.2 ms: under 1 %).

Backlogs. Packets queued while the gateway was busy arrive together, the earliest sampled
the most delayed: a run of points falling at slope -1. At the start of a hull it would be
its first edge and tilt the line by tens of per cent (a session's first second stamped
hundreds of ms apart, then jumping back); a point that a later one undercuts at
:data:`BACKLOG_SLOPE` or steeper is therefore left out of the hull (see ``_Hull``).

Outliers. One point far below the line (a packet "arriving" before its samples were
taken: a bad device stamp) would become a hull vertex and tilt every later stamp; one far
above it is harmless to a lower hull but says nothing either. A point further than
:data:`OUTLIER_EARLY_NS` below or :data:`OUTLIER_LATE_NS` above the line is therefore left
out of the fit (and counted), and so is a round trip whose bounds miss the line by more
than :data:`OUTLIER_EARLY_NS`. If :data:`MAX_REJECTED_IN_A_ROW` points in a row disagree,
the line is what is wrong (its device clock stepped): the fit starts again from them.
Steps the session sees coming (``monitor.collect.timebase``) it re-anchors itself.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from monitor.types import NS_PER_S

WINDOW_S = 600.0  # each fit spans between 5 and 10 min of device time
# Streams interleave out of device-time order (each has its own jitter); points wait this
# long in device time before they join the hull, which needs increasing x.
REORDER_NS = 250_000_000
# How far the hull's slope may be off: its lowest points wander with the link's latency floor
# (a few ms under load, tests/test_ble_collect.py), so over a span of T the slope is uncertain
# by about that much over T, never better than the crystal's short-term stability. An
# exchange's bound grows at this rate with its distance in device time from now, so a fresh
# exchange beats an older, slightly tighter one, and the next burst is due when the
# uncertainty could have moved the line by the target error.
HULL_FLOOR_WANDER_NS = 2_000_000
# A burst's midpoint is never trusted below this error, ns (the gateway's own timestamping).
BURST_FLOOR_NS = 100_000.0
# Without clock reads, the hull's slope is pulled towards no drift by this standard error
# (UTC ns per device ns). BLE Core 5.4 Vol 6 Part B §4.2.1 holds the radio's active clock to
# ±50 ppm; a wearable's sampling oscillator may be worse (an ADC's own crystal, an RC
# oscillator), so the prior is wide: it only tames a hull younger than a few seconds.
CRYSTAL_PRIOR_SIGMA = 300e-6
# No arrival precedes its sample: the line can be this far above an arrival only through a
# bad device stamp or a device clock step (the fit's own error is ms). Late arrivals are
# common (a busy gateway), but not by half a minute.
OUTLIER_EARLY_NS = 250_000_000
OUTLIER_LATE_NS = 30 * NS_PER_S
MAX_REJECTED_IN_A_ROW = 50  # about a second of a wearable's packets
MIN_SLOPE_TOLERANCE = 2e-6  # a watch crystal's drift changes by ~1 ppm per °C (IEC 60122-1 tuning forks)
# A hull edge this steep down (arrivals advancing at under half the rate of device time) is
# a queue draining, not a latency floor: no oscillator is off by 50 %. Its left vertex is
# dropped (see _Hull.add).
BACKLOG_SLOPE = -0.5


class _Hull:
    """Incremental lower hull of points with increasing x, plus their mean x.

    Packets that queued up while the gateway was busy arrive together: each was delayed by
    the device time until the last of them, and together they trace an edge of slope -1
    (in UTC minus device time). Convexity keeps every edge left of such an edge steeper
    still, so a hull of plausible slopes never has one; only a backlog at its start does,
    and its leftmost vertex would tilt the edge spanning the mean by tens of per cent for
    seconds. A vertex that a later point undercuts at :data:`BACKLOG_SLOPE` or steeper was
    therefore overtaken, not on the floor, and is dropped.
    """

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
        while hull and y - hull[-1][1] <= BACKLOG_SLOPE * (x - hull[-1][0]):
            hull.pop()  # overtaken: it waited in a queue that (x, y) left at about the same time
        while len(hull) >= 2:
            (ax, ay), (bx, by) = hull[-2], hull[-1]
            if (bx - ax) * (y - ay) - (by - ay) * (x - ax) <= 0:
                hull.pop()
            else:
                break
        hull.append((x, y))

    @property
    def mean_x(self) -> float:
        """Mean x of every point added (0 before any)."""
        return self.sum_x / self.count if self.count else 0.0

    def line(self) -> tuple[float, float]:
        """(offset, slope) of the hull edge spanning the mean x."""
        hull = self.vertices
        if len(hull) == 1:
            return hull[0][1], 0.0
        mean_x = self.mean_x
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
    ...     _ = clock.add(device_ns, 1_000_000_000 + device_ns + 3_000_000 * (k % 7 == 0))
    >>> clock.to_utc_ns(0)
    1000000000
    """

    def __init__(self) -> None:
        self._half_window_ns = round(WINDOW_S / 2 * NS_PER_S)
        self.rejected_points = 0  # arrivals and exchanges left out as outliers, since the start
        self.epoch = 0  # +1 at every reset: a burst of reads begun before it is on another time base
        self.reset()

    def reset(self) -> None:
        """Forget every point (the device rebooted, its counters restarted or its clock stepped)."""
        self.epoch += 1
        self._rejected_in_a_row = 0
        self._ref_device_ns: int | None = None
        self._ref_ns = 0
        self._active: _Hull | None = None
        self._next: _Hull | None = None
        self._offset_ns = 0.0  # residual line: arrival - device time = offset + slope · device time
        self._hull_offset_ns = 0.0  # the hull's own offset (carries the link's latency floor)
        self._slope = 0.0  # UTC ns per device ns, minus 1 (hull and bursts combined)
        self._hull_slope = 0.0
        self._slope_sigma = 1e-3  # standard error of _slope; a cheap crystal's tolerance before any fit
        self._burst_slope = 0.0  # least-squares slope of the bursts' midpoints
        self._burst_weight = 0.0  # its inverse variance (0: fewer than two bursts)
        self._pending: list[tuple[int, float]] = []  # heap of (x, y) waiting for the reorder horizon
        self._max_x = 0
        # Per burst of exchanges: (x, UTC - device time) of its latest send and of its earliest receive.
        self._send_bounds: list[tuple[int, float]] = []
        self._receive_bounds: list[tuple[int, float]] = []
        self._latest_x = 0  # latest device time seen by arrivals or exchanges
        self._sync_bound_ns: float | None = None

    @property
    def slope_tolerance(self) -> float:
        """How far the fitted slope may be off (UTC ns per device ns): two standard errors."""
        return max(MIN_SLOPE_TOLERANCE, 2 * self._slope_sigma)

    def _hull_slope_sigma(self) -> float:
        vertices = self._active.vertices if self._active is not None else []
        span_ns = vertices[-1][0] - vertices[0][0] if vertices else 0  # a backlog's vertices are gone
        return 1e-3 if span_ns <= 0 else HULL_FLOOR_WANDER_NS / span_ns

    def _fit_burst_slope(self) -> None:
        """Weighted least-squares slope through the bursts' midpoints, and its inverse variance.

        Runs once per burst; per packet, :meth:`_fit_slope` only combines it with the hull's.
        """
        points = [
            ((xs + xr) / 2, (ys + yr) / 2, 1.0 / (((yr - ys) / 2) ** 2 + BURST_FLOOR_NS**2))
            for (xs, ys), (xr, yr) in zip(self._send_bounds, self._receive_bounds, strict=True)
        ]
        self._burst_slope, self._burst_weight = 0.0, 0.0
        if len(points) < 2:
            return
        total_w = sum(w for _, _, w in points)
        mean_x = sum(x * w for x, _, w in points) / total_w
        mean_y = sum(y * w for _, y, w in points) / total_w
        sxx = sum(w * (x - mean_x) ** 2 for x, _, w in points)
        if sxx > 0:
            self._burst_slope = sum(w * (x - mean_x) * (y - mean_y) for x, y, w in points) / sxx
            self._burst_weight = sxx  # 1 / variance of the burst slope

    def _fit_slope(self) -> None:
        """Combine the hull's slope, the bursts' slope and the crystal prior by inverse variance."""
        hull_weight = self._hull_slope_sigma() ** -2
        # The prior (slope 0) always counts: without it, a young hull tilted by a backlog (a
        # busy gateway just after connect) would set the slope alone until a second burst,
        # and two bursts of wide bounds would then swing it by hundreds of ppm. Precise
        # bursts outweigh it within seconds, so it hardly biases them.
        prior_weight = CRYSTAL_PRIOR_SIGMA**-2
        weight_sum = hull_weight + self._burst_weight + prior_weight
        self._slope = (hull_weight * self._hull_slope + self._burst_weight * self._burst_slope) / weight_sum
        self._slope_sigma = weight_sum**-0.5

    def sync_due_s(self, target_ns: float) -> float:
        """Device seconds until the slope's uncertainty could move the line by ``target_ns``."""
        return target_ns / self.slope_tolerance / NS_PER_S

    @property
    def sync_bound_ns(self) -> float | None:
        """Error bound of the offset from round trips now, ns (None: no exchange, hull only)."""
        return self._sync_bound_ns

    @property
    def latency_floor_ns(self) -> float | None:
        """How far the hull's line lies above the synchronised one, ns (None without exchanges)."""
        return None if self._sync_bound_ns is None else self._hull_offset_ns - self._offset_ns

    @property
    def drift_ppm(self) -> float:
        """Fitted device clock error, ppm (positive: the device clock runs fast)."""
        return (1.0 / (1.0 + self._slope) - 1.0) * 1e6

    def residual_ns(self, device_ns: int, arrival_ns: int) -> int | None:
        """How long after the fitted line's time of ``device_ns`` it arrived, ns (None: no fit yet)."""
        if self._ref_device_ns is None:
            return None
        return arrival_ns - self.to_utc_ns(device_ns)

    def add(self, device_ns: int, arrival_ns: int) -> bool:
        """Add the arrival (UTC ns) of a packet whose last sample was taken at ``device_ns``.

        Returns False when the point was left out as an outlier (see the module docstring).
        """
        residual_ns = self.residual_ns(device_ns, arrival_ns)
        if residual_ns is not None and not -OUTLIER_EARLY_NS <= residual_ns <= OUTLIER_LATE_NS:
            self.rejected_points += 1
            self._rejected_in_a_row += 1
            if self._rejected_in_a_row < MAX_REJECTED_IN_A_ROW:
                return False
            self.reset()  # every point for a while disagrees: the line is what is wrong
        self._rejected_in_a_row = 0
        if self._ref_device_ns is None:
            self._ref_device_ns, self._ref_ns = device_ns, arrival_ns
        x = device_ns - self._ref_device_ns
        y = float(arrival_ns - self._ref_ns - x)
        heapq.heappush(self._pending, (x, y))
        self._max_x = max(self._max_x, x)
        self._latest_x = max(self._latest_x, x)
        if self._active is None:
            self._active = _Hull(x)
        changed = False
        while self._pending and self._pending[0][0] <= self._max_x - REORDER_NS:
            point = heapq.heappop(self._pending)
            if not self._overtaken(*point):
                self._commit(*point)
            changed = True
        if self._active.vertices:
            if changed:
                self._hull_offset_ns, self._hull_slope = self._active.line()
        else:  # under REORDER_NS of data (or only a backlog): the lowest point so far, nominal rate
            self._hull_offset_ns, self._hull_slope = min(y for _, y in self._pending), 0.0
        if changed or not self._active.vertices:
            self._fit_slope()
            self._update_offset()
        return True

    def add_sync(self, exchanges: Sequence[tuple[int, int, int]]) -> None:
        """Add a burst of timed reads of the device clock (round trips).

        Parameters
        ----------
        exchanges : sequence of (device_ns, send_ns, receive_ns)
            Device time the wearable returned (ns since boot, on the time base of
            :func:`device_time_ns`), and UTC ns just before its read request was sent and
            just after its response arrived: the device latched its time in between. A
            burst spans a second or so, over which the slope's error is negligible.

        Examples
        --------
        Device time 0 is at UTC 1 s. The first exchange has a fast request (0.1 ms) and a
        slow response, the second a slow request and a fast response (0.2 ms): neither
        round trip is under 4 ms, yet together they bound the line within 0.16 ms.

        >>> clock = DeviceClock()
        >>> clock.add_sync([(0, 999_900_000, 1_005_000_000), (10_000_000, 1_006_000_000, 1_010_200_000)])
        >>> clock.to_utc_ns(0), round(clock.sync_bound_ns)
        (1000047127, 152873)
        """
        if not exchanges:
            return
        if any(receive_ns < send_ns for _, send_ns, receive_ns in exchanges):
            raise ValueError("an exchange's response arrived before its request was sent")
        if self._ref_device_ns is not None:  # bounds that miss the line by far: a bad read or a step
            plausible = [
                (device_ns, send_ns, receive_ns)
                for device_ns, send_ns, receive_ns in exchanges
                if send_ns - OUTLIER_EARLY_NS <= self.to_utc_ns(device_ns) <= receive_ns + OUTLIER_EARLY_NS
            ]
            self.rejected_points += len(exchanges) - len(plausible)
            exchanges = plausible
            if not exchanges:
                return
        if self._ref_device_ns is None:
            device_ns, send_ns, receive_ns = exchanges[0]
            self._ref_device_ns, self._ref_ns = device_ns, (send_ns + receive_ns) // 2
        ref_device_ns, ref_ns = self._ref_device_ns, self._ref_ns
        sends = [(d - ref_device_ns, float(t - ref_ns - (d - ref_device_ns))) for d, t, _ in exchanges]
        receives = [(d - ref_device_ns, float(t - ref_ns - (d - ref_device_ns))) for d, _, t in exchanges]
        slope = self._slope  # a burst spans seconds: 100 ppm would tilt it by 0.1 ms per second
        self._send_bounds.append(max(sends, key=lambda point: point[1] - slope * point[0]))
        self._receive_bounds.append(min(receives, key=lambda point: point[1] - slope * point[0]))
        self._latest_x = max(self._latest_x, max(x for x, _ in sends))
        horizon_x = self._latest_x - 2 * self._half_window_ns
        kept = [
            (send, receive)
            for send, receive in zip(self._send_bounds, self._receive_bounds, strict=True)
            if min(send[0], receive[0]) >= horizon_x
        ]
        self._send_bounds = [send for send, _ in kept]
        self._receive_bounds = [receive for _, receive in kept]
        self._fit_burst_slope()
        self._fit_slope()
        self._update_offset()

    def burst_bound_ns(self, exchanges: Sequence[tuple[int, int, int]]) -> float:
        """Half the width of the intersected bounds of ``exchanges`` alone, ns (see :meth:`add_sync`)."""
        slope = self._slope
        lower = max(send - (1 + slope) * device for device, send, _ in exchanges)
        upper = min(receive - (1 + slope) * device for device, _, receive in exchanges)
        return (upper - lower) / 2

    def _update_offset(self) -> None:
        """Height of the line: from the intersected round-trip bounds, else from the hull."""
        if not self._send_bounds:
            # Pivot on the hull at the mean device time: the LP optimum's anchor (Moon et al.).
            pivot_x = self._active.mean_x if self._active is not None else 0.0
            self._offset_ns = self._hull_offset_ns + (self._hull_slope - self._slope) * pivot_x
            return
        # Residuals about the hull's slope, each bound loosened by the slope's tolerance times
        # its distance from now: the line at now lies between the tightest of them.
        slope, tolerance, now_x = self._slope, self.slope_tolerance, self._latest_x
        lower = max(y - slope * x - tolerance * abs(now_x - x) for x, y in self._send_bounds)
        upper = min(y - slope * x + tolerance * abs(now_x - x) for x, y in self._receive_bounds)
        # Crossed bounds (a slope off by more than its tolerance) still give their midpoint.
        self._offset_ns = (lower + upper) / 2
        self._sync_bound_ns = abs(upper - lower) / 2

    def _overtaken(self, x: int, y: float) -> bool:
        """Whether a later point still waiting undercuts (x, y) as a draining queue does (:class:`_Hull`).

        The hull drops such a vertex itself once the later point joins it; caught here, a
        backlog's points never become its last vertex, which would tilt the line up to them
        for the reorder horizon.
        """
        return any(py - y <= BACKLOG_SLOPE * (px - x) for px, py in self._pending if px > x)

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
