"""Parameters of the EMG spasm detector, validated up front.

Every number has its unit in its name, and its reason (physiology, the signal chain, or
statistics) next to it. None is fitted to a recording: the real recordings in
``tests/data`` and the drifting-floor properties of ``tests/test_emg_floor.py`` were held
out, and ``bench/accuracy.py`` checks the defaults on the generator. Every threshold on
the signal is a multiple of the channel's own resting floor, so results do not depend on
the input's scale; only ``full_scale_mv`` and ``flat_ptp_mv`` are in the device's units.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from monitor.bounds import check_bounds


@dataclass(frozen=True, slots=True)
class EmgParams:
    """Tunable parameters of :class:`monitor.dsp.SpasmDetector`.

    Attributes
    ----------
    highpass_hz, lowpass_hz : float
        Band-pass edges. Surface EMG carries its power in 20–450 Hz (De Luca et al. 2010,
        J Biomech 43:1573); the upper edge is bounded to 0.45× the sample rate.
    filter_order : int
        Butterworth order of each band edge.
    mains_hz : float or None
        Mains frequency to notch (50 or 60 Hz); None disables the notch.
    mains_harmonics : int
        How many harmonics (fundamental included) to notch, those below Nyquist.
    notch_q : float
        Quality factor of each notch (bandwidth = f / Q). A narrow notch (Q = 30) rings
        for about 0.2 s after a strong burst and stretches myoclonic spasms; Q = 8 settles
        in about 50 ms and costs only the 47–53 Hz band (measured in bench/accuracy.py).
    ecg_suppression : bool
        Raise the high-pass edge to ``ecg_highpass_hz`` to suppress ECG cross-talk on trunk
        and proximal muscles; a 30 Hz high-pass is the simplest effective method
        (Drake & Callaghan 2006, J Electromyogr Kinesiol 16:175).
    ecg_highpass_hz : float
    envelope_lowpass_hz : float
        Cut-off of the RMS envelope; must pass clonic bursts up to 8 Hz with their edges.
    envelope_rate_hz : float
        Target rate of the envelope; the exact rate is the sample rate divided by a whole
        decimation factor.
    smoothing_s : float
        Moving average applied to the envelope before thresholding.
    floor_block_s : float
        Block over which one value of the resting floor is read: the median of the
        block's valid envelope samples. A quarter second holds about five independent
        envelope values (20 Hz envelope band); a heartbeat's QRS (~0.1 s) covers under
        half of it and leaves the median alone, and a wider blip that fills a block is
        outvoted across the window (``floor_quantile``).
    floor_window_s : float
        The floor in force is the ``floor_quantile`` of the block values over this long
        before the current block. It must hold the rest before a spasm's rise (spasms
        rise within tens to hundreds of ms, a tonic one within about a second) and be
        short against electrode drift (tens of seconds to hours): a threefold drift within
        a minute moves the floor by 3^(4/60) = 1.08x inside 4 s, far below ``on_x_baseline``.
        It is also how fast the floor follows a recording that starts mid-contraction.
    floor_quantile : float
        Quantile of the window's block medians taken as the floor. The lower quartile
        ignores bursts and artefacts filling up to three quarters of the window's blocks,
        without the downward bias of a minimum (a minimum of 16 noisy values would make
        the thresholds ~15 % more trigger-happy).
    summary_block_s : float
        Period of the ``emg_envelope`` records (RMS and baseline per channel).
    on_x_baseline, off_x_baseline : float
        Hysteresis thresholds as multiples of the resting floor: a spasm starts when the
        smoothed envelope exceeds ``on`` times the floor in force, and lasts while it
        stays above ``off`` times the floor measured before its onset (frozen for the
        spasm, so a plateau is never taken for a new resting level). ``on`` = 2.5: the
        smoothed envelope of rest stays below about 1.2x (1 kHz) to 1.5x (200 Hz) its
        floor (the spread, measured), and a contraction at 10 dB SNR stands at
        sqrt(1 + 10) = 3.3x; ``off`` = 1.8 sits between rest and that.
    edge_x_baseline : float
        Onsets and offsets are moved out to where the envelope returns within this
        multiple of the baseline, so a slow ramp is timed from its start.
    edge_search_s : float
        How far onset and offset may be moved out.
    core_share_of_peak : float
        A spasm's extent is cut to its core, where the smoothed envelope stands at or
        above this share of its peak (see :mod:`monitor.dsp.extent`): -20 dB, activity
        too weak to belong to the burst it surrounds, so that the tone before a strong
        burst and its slow relaxation after it (at 2–10x a floor the burst exceeds
        100-fold) are not counted as the spasm. It cuts nothing from a
        spasm whose peak is under 1 / share x ``edge_x_baseline`` = 13x its floor.
    core_margin_s : float
        Kept before and after the core: a spasm rises from rest within about a second
        and its amplitude is at a tenth of its peak within the first tenth of the rise;
        0.3 s covers that for a one-second rise with the envelope's own lag, and the same
        for the decay.
    min_burst_s : float
        Shorter supra-threshold bursts are noise.
    merge_gap_s : float
        Bursts separated by less than this are one spasm. Snow's scale counts a rapid
        series of spasms without a pause as one spasm; a pause a patient notices is about
        a second, and clonic bursts at 3 Hz are separated by at most about 0.2 s.
    max_event_s : float
        Longer activity is split, bounding memory on a stream that never relaxes.
    myoclonic_max_s : float
        Events shorter than this are myoclonic (unit) spasms: 50–500 ms bursts, plus the
        envelope's smearing.
    clonus_band_hz : tuple of float
        Band searched for the clonic rhythm (clonus is 3–8 Hz).
    clonus_min_score : float
        Share of the envelope's modulation power at the rhythm (with its first harmonic)
        above which a window is clonic.
    clonus_window_s : float
        Window over which clonic rhythm is judged, for mixed spasms.
    full_scale_mv : float or None
        ADC full scale of the device, mV; samples at ±full scale are reported as clipping.
        None disables clipping detection.
    motion_max_hz : float
        A burst whose band-passed signal adds an RMS frequency (Rice) below this is a
        motion artefact: muscle measures 100-135 Hz at 1 kHz (103-122 Hz on the real
        BioSPPy contractions), what an electrode knock leaves after the 20 Hz high-pass
        at most 50 Hz. 65 Hz lies between them. The rest's own variation is not credited
        to the burst (a 2-sigma bound, :mod:`monitor.dsp.artefacts`). Used at rates of
        500 Hz and up.
    motion_lowband_ratio : float
        Below 500 Hz: a burst shorter than ``myoclonic_max_s`` whose raw signal adds more
        than this ratio of its band-passed RMS in the motion band (3 Hz up to the EMG
        band) is a motion artefact. Muscle's spectrum rises as f² to its peak: with the
        corners of Shwedyk et al. 1977 set anywhere from a fatigued, slow muscle (30 and
        80 Hz) to a fast one (80 and 150 Hz), the ratio of 3-20 Hz to 20-90 Hz RMS is
        0.16-0.31. An electrode swing or knock holds most of its energy below the band
        (0.75 and up on the generator's knocks and spikes). 0.5 leaves room for the
        estimate's noise on a short burst.
    artefact_guard_s : float
        Margin around artefacts within which bursts are suspect.
    flat_ptp_mv : float
        An envelope block whose raw samples moved by at most this much in all (summed
        absolute steps, in the device's units) is a flat line (electrode off, a lead
        holding its last value). 0 by default: only a signal that does not move at all,
        whatever its scale; set it to a device's quantisation step where an ADC's noise
        floor is below one count.
    """

    highpass_hz: float = 20.0
    lowpass_hz: float = 450.0
    filter_order: int = 4
    mains_hz: float | None = 50.0
    mains_harmonics: int = 3
    notch_q: float = 8.0
    ecg_suppression: bool = False
    ecg_highpass_hz: float = 35.0
    envelope_lowpass_hz: float = 20.0
    envelope_rate_hz: float = 100.0
    smoothing_s: float = 0.05
    floor_block_s: float = 0.25
    floor_window_s: float = 4.0
    floor_quantile: float = 0.25
    summary_block_s: float = 1.0
    on_x_baseline: float = 2.5
    off_x_baseline: float = 1.8
    edge_x_baseline: float = 1.3
    edge_search_s: float = 0.5
    core_share_of_peak: float = 0.1
    core_margin_s: float = 0.3
    min_burst_s: float = 0.04
    merge_gap_s: float = 1.0
    max_event_s: float = 120.0
    myoclonic_max_s: float = 0.8
    clonus_band_hz: tuple[float, float] = (2.5, 9.0)
    clonus_min_score: float = 0.3
    clonus_window_s: float = 2.0
    full_scale_mv: float | None = None
    motion_max_hz: float = 65.0
    motion_lowband_ratio: float = 0.5
    artefact_guard_s: float = 0.3
    flat_ptp_mv: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name} must be finite, got {value}")
        positive = (
            "highpass_hz", "lowpass_hz", "notch_q", "ecg_highpass_hz", "envelope_lowpass_hz",
            "envelope_rate_hz", "smoothing_s", "floor_block_s", "floor_window_s", "summary_block_s",
            "edge_search_s", "core_margin_s", "min_burst_s", "max_event_s",
            "myoclonic_max_s", "clonus_window_s", "motion_max_hz", "motion_lowband_ratio",
        )  # fmt: skip
        check_bounds(self, positive, above=0)
        if self.highpass_hz >= self.lowpass_hz:
            raise ValueError(f"highpass_hz ({self.highpass_hz}) must be below lowpass_hz ({self.lowpass_hz})")
        if not 1 <= self.filter_order <= 8:
            raise ValueError(f"filter_order must be 1..8, got {self.filter_order}")
        if self.mains_hz is not None and not 40 <= self.mains_hz <= 70:
            raise ValueError(f"mains_hz must be 50, 60 (40..70) or None, got {self.mains_hz}")
        if self.mains_harmonics < 0:
            raise ValueError(f"mains_harmonics must be >= 0, got {self.mains_harmonics}")
        if not 0 < self.core_share_of_peak < 1:
            raise ValueError(f"core_share_of_peak must be in (0, 1), got {self.core_share_of_peak}")
        if not 0 < self.floor_quantile < 1:
            raise ValueError(f"floor_quantile must be in (0, 1), got {self.floor_quantile}")
        if self.floor_window_s < self.floor_block_s:
            raise ValueError(
                f"floor_window_s ({self.floor_window_s}) must be >= floor_block_s ({self.floor_block_s})"
            )
        if self.flat_ptp_mv < 0:
            raise ValueError(f"flat_ptp_mv must be >= 0, got {self.flat_ptp_mv}")
        if not 1 < self.edge_x_baseline <= self.off_x_baseline <= self.on_x_baseline:
            raise ValueError(
                "thresholds must satisfy 1 < edge_x_baseline <= off_x_baseline <= on_x_baseline,"
                f" got {self.edge_x_baseline}, {self.off_x_baseline}, {self.on_x_baseline}"
            )
        if self.merge_gap_s < 0 or self.artefact_guard_s < 0:
            raise ValueError("merge_gap_s and artefact_guard_s must be >= 0")
        low, high = self.clonus_band_hz
        if not 0 < low < high:
            raise ValueError(f"clonus_band_hz must be (low, high) with 0 < low < high, got {low, high}")
        if not 0 < self.clonus_min_score < 1:
            raise ValueError(f"clonus_min_score must be in (0, 1), got {self.clonus_min_score}")
        if self.full_scale_mv is not None and not self.full_scale_mv > 0:
            raise ValueError(f"full_scale_mv must be > 0 or None, got {self.full_scale_mv}")

    @classmethod
    def from_kwargs(cls, **params: Any) -> EmgParams:
        """Build from keyword overrides, rejecting unknown names with the list of known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown EMG detector parameter(s) {unknown}; known: {sorted(known)}")
        if "clonus_band_hz" in params:
            params["clonus_band_hz"] = tuple(params["clonus_band_hz"])
        return cls(**params)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
