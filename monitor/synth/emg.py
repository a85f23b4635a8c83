"""Synthetic surface EMG of spastic muscles, with exact ground truth.

Tests, benchmarks, the demo and the emulated wearables all draw their EMG from
:func:`generate_emg`. The signal is built as

    emg = clip(flatline(gain(t) · (spasms + rest_noise) + hum + wander + ecg + motion))

where every spasm is band-limited noise with the sEMG power spectrum of Shwedyk et al.
(1977), modulated by an activation profile of one of the morphologies of Thomas et al.
2014 (J Electromyogr Kinesiol 24:747):

- tonic: sustained 1–60 s, with a fast rise and a slower decay ramp;
- clonus: rhythmic bursts at 3–8 Hz for 2–30 s;
- myoclonic (unit): single 50–500 ms bursts;
- mixed: a tonic phase and a clonic phase in one spasm.

SNR is defined for the *weakest* spasm: ``snr_db = 20·log10(A_min / noise_rms_mv)`` where
``A_min`` is the RMS amplitude of the weakest spasm at its plateau (of a clonic burst at its
peak). Intensities are drawn log-uniformly over ``intensity_span`` (10× by default: an
order of magnitude) above that floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from monitor.types import NS_PER_S, SPASM_KINDS, SpasmKind

FloatArray = npt.NDArray[np.float64]

# Shwedyk, Balasubramanian & Scott 1977, "A nonstationary model for the electromyogram":
# P(f) ∝ fh⁴ f² / ((f² + fl²)(f² + fh²)²), with fl ≈ 60 Hz and fh ≈ 120 Hz for surface EMG,
# which puts the spectral peak near 80 Hz as measured on limb muscles.
SEMG_LOW_CORNER_HZ = 60.0
SEMG_HIGH_CORNER_HZ = 120.0

# Morphology ranges after Thomas et al. 2014.
TONIC_DURATION_S = (1.0, 60.0)
CLONUS_DURATION_S = (2.0, 30.0)
CLONUS_RATE_HZ = (3.0, 8.0)
MYOCLONIC_DURATION_S = (0.05, 0.5)
# A clonus builds up and fades with slower beats; below about 2 Hz a rhythm is no longer
# a clonic beat. The build-up and fade last a few seconds.
CLONUS_EDGE_MIN_HZ = 2.0
CLONUS_EDGE_S = 3.0
# Movement artefacts carry their power below about 20 Hz (De Luca et al. 2010, J Biomech
# 43:1573): a heel strike or a tremor knock moves the electrode in one smooth swing at
# 3-15 Hz (67-333 ms).
REST_ARTEFACT_HZ = (3.0, 15.0)

ArtefactKind = Literal["motion_spike", "electrode_off", "clipping"]


@dataclass(frozen=True, slots=True)
class TrueSpasm:
    """A spasm placed by the generator; times in s from the start of the recording."""

    onset_s: float
    offset_s: float
    kind: SpasmKind
    channel: int
    amplitude_mv: float
    clonus_hz: float | None = None

    @property
    def duration_s(self) -> float:
        return self.offset_s - self.onset_s


@dataclass(frozen=True, slots=True)
class TrueArtefact:
    """An artefact placed by the generator; times in s from the start of the recording."""

    onset_s: float
    offset_s: float
    kind: ArtefactKind
    channel: int

    @property
    def duration_s(self) -> float:
        return self.offset_s - self.onset_s


@dataclass(frozen=True, slots=True)
class EmgScenario:
    """Everything that shapes a synthetic recording. All fields have realistic defaults.

    Attributes
    ----------
    sample_rate_hz : float
        1000 Hz for the reference wearable, 200 Hz for the Myo armband.
    channels : int
        Independent EMG channels (muscles).
    duration_s : float
        Length of the recording, s.
    seed : int
        Seed of every random draw: the same scenario gives the same signal.
    snr_db : float
        Amplitude of the weakest spasm over the rest noise, dB (see module docstring).
    noise_rms_mv : float
        Amplifier noise plus resting muscle tone, RMS mV.
    intensity_span : float
        Ratio of the strongest to the weakest spasm amplitude.
    spasms_per_min : float
        Mean spasm rate per channel.
    kinds : tuple of str
        Morphologies to draw from, uniformly.
    min_gap_s : float
        Minimum rest between consecutive spasms, s.
    mains_hz : float or None
        50 or 60 Hz mains hum with odd harmonics; None for none.
    mains_mv : float
        Amplitude of the mains fundamental, mV.
    wander_mv : float
        Amplitude of baseline wander (< 1 Hz), mV.
    ecg_mv : float
        Amplitude of ECG R waves leaking into the channel (trunk and proximal muscles); 0 for none.
    heart_rate_bpm : float
        Mean heart rate of that ECG.
    motion_spikes_per_min : float
        Rate of motion-artefact spikes (cable or electrode knocks).
    motion_spike_mv : tuple of float
        Range of motion-spike amplitudes, mV.
    impedance_drift : float
        Peak relative change of the noise floor over hours from electrode impedance
        (0.3 means the rest noise swings between 0.7× and 1.3×).
    electrode_off_per_hour : float
        Rate of detached-electrode episodes, during which the channel reads a flat line.
    electrode_off_s : tuple of float
        Range of their durations, s.
    full_scale_mv : float or None
        ADC full scale: samples beyond ±full_scale_mv are clipped. None for no clipping.
    floor_drift_ratio : float
        The rest noise wanders on the minute scale (sweat, cable motion, background
        tone) between ``noise_rms_mv / floor_drift_ratio`` and ``noise_rms_mv``, so
        ``snr_db`` still holds at the floor's highest; 1 for no such drift.
    floor_drift_s : tuple of float
        Range of the time each move between two drift levels takes, s.
    rest_artefacts_per_s : float
        Rate of small transients in rest (heel strikes while walking, tremor knocks):
        an artefact-dense rest. 0 for none.
    rest_artefact_x_floor : tuple of float
        Range of their peak amplitude (log-uniform), as multiples of the local rest
        noise RMS. Each is one smooth swing at 3-15 Hz, below the EMG band.
    tonic_duration_s, clonus_duration_s : tuple of float
        Ranges of tonic and clonic spasm durations, s (log-uniform draws).
    clonus_slowing_hz : float
        A clonus' rhythm is slower by up to this much at its start and end (over the
        first and last quarter of the episode, at most 3 s each), as a beating clonus
        builds up and fades out; the true ``clonus_hz`` is the rate in between.
    """

    sample_rate_hz: float = 1000.0
    channels: int = 1
    duration_s: float = 600.0
    seed: int = 0
    snr_db: float = 20.0
    noise_rms_mv: float = 0.005
    intensity_span: float = 10.0
    spasms_per_min: float = 3.0
    kinds: tuple[SpasmKind, ...] = SPASM_KINDS
    min_gap_s: float = 3.0
    mains_hz: float | None = 50.0
    mains_mv: float = 0.02
    wander_mv: float = 0.2
    ecg_mv: float = 0.0
    heart_rate_bpm: float = 72.0
    motion_spikes_per_min: float = 0.5
    motion_spike_mv: tuple[float, float] = (1.0, 8.0)
    impedance_drift: float = 0.3
    electrode_off_per_hour: float = 2.0
    electrode_off_s: tuple[float, float] = (2.0, 20.0)
    full_scale_mv: float | None = 6.0
    floor_drift_ratio: float = 1.0
    floor_drift_s: tuple[float, float] = (60.0, 240.0)
    rest_artefacts_per_s: float = 0.0
    rest_artefact_x_floor: tuple[float, float] = (5.0, 50.0)
    tonic_duration_s: tuple[float, float] = TONIC_DURATION_S
    clonus_duration_s: tuple[float, float] = CLONUS_DURATION_S
    clonus_slowing_hz: float = 0.0

    def __post_init__(self) -> None:
        if not self.sample_rate_hz >= 100:
            raise ValueError(f"sample_rate_hz must be >= 100 Hz, got {self.sample_rate_hz}")
        if self.channels < 1:
            raise ValueError(f"channels must be >= 1, got {self.channels}")
        if not self.duration_s > 0:
            raise ValueError(f"duration_s must be > 0, got {self.duration_s}")
        if not self.floor_drift_ratio >= 1:
            raise ValueError(f"floor_drift_ratio must be >= 1, got {self.floor_drift_ratio}")
        if self.rest_artefacts_per_s < 0 or self.clonus_slowing_hz < 0:
            raise ValueError("rest_artefacts_per_s and clonus_slowing_hz must be >= 0")
        for name in ("floor_drift_s", "rest_artefact_x_floor", "tonic_duration_s", "clonus_duration_s"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(f"{name} must be (low, high) with 0 < low <= high, got {(low, high)}")
        unknown = set(self.kinds) - set(SPASM_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"kinds must be a non-empty subset of {SPASM_KINDS}, got {self.kinds}")

    def clean(self) -> EmgScenario:
        """The same scenario without any artefact: only spasms, noise and mild hum."""
        return replace(
            self,
            wander_mv=0.0,
            ecg_mv=0.0,
            motion_spikes_per_min=0.0,
            impedance_drift=0.0,
            electrode_off_per_hour=0.0,
            full_scale_mv=None,
            floor_drift_ratio=1.0,
            rest_artefacts_per_s=0.0,
        )


@dataclass(frozen=True)
class SyntheticEmg:
    """A generated recording with its ground truth.

    Attributes
    ----------
    emg_mv : ndarray, shape (n, channels)
        The signal as a wearable would send it, mV.
    sample_rate_hz : float
    t0_ns : int
        UTC time of the first sample, ns.
    spasms : list of TrueSpasm
        Every spasm, sorted by onset. Spasms never overlap artefacts that hide them.
    artefacts : list of TrueArtefact
    scenario : EmgScenario
    """

    emg_mv: FloatArray
    sample_rate_hz: float
    t0_ns: int
    spasms: list[TrueSpasm]
    artefacts: list[TrueArtefact] = field(default_factory=list)
    scenario: EmgScenario = field(default_factory=EmgScenario)

    def spasms_on(self, channel: int) -> list[TrueSpasm]:
        return [s for s in self.spasms if s.channel == channel]

    def time_ns(self, t_s: float) -> int:
        return self.t0_ns + round(t_s * NS_PER_S)


def generate_emg(scenario: EmgScenario | None = None, t0_ns: int = 0) -> SyntheticEmg:
    """Generate a synthetic EMG recording with ground truth.

    Parameters
    ----------
    scenario : EmgScenario, optional
        What to generate; the defaults give 10 minutes of one 1 kHz channel at 20 dB.
    t0_ns : int
        UTC time of the first sample, ns.

    Returns
    -------
    SyntheticEmg
        Signal of shape (n, channels) in mV, plus the true spasms and artefacts.

    Examples
    --------
    >>> rec = generate_emg(EmgScenario(duration_s=60, seed=1))
    >>> rec.emg_mv.shape
    (60000, 1)
    """
    sc = scenario or EmgScenario()
    rng = np.random.default_rng(sc.seed)
    fs = sc.sample_rate_hz
    n = round(sc.duration_s * fs)
    t_s = np.arange(n) / fs
    emg = np.empty((n, sc.channels))
    spasms: list[TrueSpasm] = []
    artefacts: list[TrueArtefact] = []
    for ch in range(sc.channels):
        off_intervals = _electrode_off_intervals(sc, rng)
        ch_spasms = _place_spasms(sc, rng, ch, off_intervals)
        activation = np.zeros(n)
        for spasm in ch_spasms:
            _add_activation(activation, spasm, fs, rng, sc.clonus_slowing_hz)
        muscle = _semg_noise(n, fs, rng) * activation
        rest_noise = rng.standard_normal(n)  # drawn first: the same seed gives the same signal as before
        rest_gain = _impedance_gain(sc, t_s, rng) * _floor_drift(sc, t_s, rng)
        rest = rest_noise * sc.noise_rms_mv * rest_gain
        signal = muscle + rest + _hum(sc, t_s, rng) + _wander(sc, t_s, rng) + _ecg(sc, t_s, rng)
        spikes = _motion_spikes(sc, rng, ch, ch_spasms)
        for spike in spikes:
            _add_motion_spike(signal, spike, fs, sc.motion_spike_mv, rng)
        artefacts.extend(spikes)
        knocks = _rest_artefacts(sc, rng, ch, ch_spasms)
        for knock in knocks:
            local_mv = sc.noise_rms_mv * float(rest_gain[min(round(knock.onset_s * fs), n - 1)])
            low, high = sc.rest_artefact_x_floor
            amplitude_mv = local_mv * float(np.exp(rng.uniform(np.log(low), np.log(high))))
            _add_electrode_swing(signal, knock, fs, amplitude_mv)
        artefacts.extend(knocks)
        for start_s, stop_s in off_intervals:
            lo, hi = round(start_s * fs), round(stop_s * fs)
            signal[lo:hi] = signal[lo]  # a detached lead holds its last value
            artefacts.append(TrueArtefact(start_s, stop_s, "electrode_off", ch))
        if sc.full_scale_mv is not None:
            artefacts.extend(_clipped_runs(signal, sc.full_scale_mv, fs, ch))
            np.clip(signal, -sc.full_scale_mv, sc.full_scale_mv, out=signal)
        emg[:, ch] = signal
        spasms.extend(ch_spasms)
    spasms.sort(key=lambda s: (s.onset_s, s.channel))
    artefacts.sort(key=lambda a: (a.onset_s, a.channel))
    return SyntheticEmg(emg, fs, t0_ns, spasms, artefacts, sc)


def semg_noise(n: int, fs: float, rng: np.random.Generator) -> FloatArray:
    """Unit-RMS Gaussian noise with the surface-EMG spectrum of Shwedyk et al. 1977.

    Parameters
    ----------
    n : int
        Number of samples.
    fs : float
        Sample rate, Hz.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (n,)
        Unit-RMS noise; multiply by an activation envelope in mV for a muscle's sEMG.
    """
    return _semg_noise(n, fs, rng)


def _semg_noise(n: int, fs: float, rng: np.random.Generator) -> FloatArray:
    """Unit-RMS Gaussian noise with the surface-EMG spectrum of Shwedyk et al. 1977."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / fs)
    fl, fh = SEMG_LOW_CORNER_HZ, SEMG_HIGH_CORNER_HZ
    power = fh**4 * f**2 / ((f**2 + fl**2) * (f**2 + fh**2) ** 2)
    shaped = np.fft.irfft(spectrum * np.sqrt(power), n)
    rms = float(np.sqrt(np.mean(shaped**2)))
    return shaped / rms if rms > 0 else shaped


def _electrode_off_intervals(sc: EmgScenario, rng: np.random.Generator) -> list[tuple[float, float]]:
    count = rng.poisson(sc.electrode_off_per_hour * sc.duration_s / 3600.0)
    intervals = []
    for _ in range(count):
        length = rng.uniform(*sc.electrode_off_s)
        start = rng.uniform(0.0, max(sc.duration_s - length, 0.0))
        intervals.append((start, min(start + length, sc.duration_s)))
    return sorted(intervals)


def _draw_spasm(sc: EmgScenario, rng: np.random.Generator) -> tuple[SpasmKind, float, float | None]:
    kind: SpasmKind = sc.kinds[int(rng.integers(len(sc.kinds)))]
    clonus_hz: float | None = None
    if kind == "tonic":
        # Log-uniform: most tonic spasms last seconds, a few approach a minute.
        duration = float(np.exp(rng.uniform(*np.log(sc.tonic_duration_s))))
    elif kind == "clonus":
        duration = float(np.exp(rng.uniform(*np.log(sc.clonus_duration_s))))
        clonus_hz = float(rng.uniform(*CLONUS_RATE_HZ))
    elif kind == "myoclonic":
        duration = float(rng.uniform(*MYOCLONIC_DURATION_S))
    else:
        duration = float(rng.uniform(4.0, 30.0))
        clonus_hz = float(rng.uniform(*CLONUS_RATE_HZ))
    return kind, duration, clonus_hz


def _place_spasms(
    sc: EmgScenario,
    rng: np.random.Generator,
    channel: int,
    off_intervals: list[tuple[float, float]],
) -> list[TrueSpasm]:
    """Spasms as a renewal process: exponential rests of at least ``min_gap_s``."""
    floor_mv = sc.noise_rms_mv * 10 ** (sc.snr_db / 20)
    mean_rest_s = max(60.0 / sc.spasms_per_min, sc.min_gap_s) if sc.spasms_per_min > 0 else None
    spasms: list[TrueSpasm] = []
    t = sc.min_gap_s
    while mean_rest_s is not None:
        t += sc.min_gap_s + rng.exponential(mean_rest_s - sc.min_gap_s + 1e-9)
        kind, duration, clonus_hz = _draw_spasm(sc, rng)
        amplitude = floor_mv * float(np.exp(rng.uniform(0.0, np.log(sc.intensity_span))))
        if t + duration + sc.min_gap_s > sc.duration_s:
            break
        hidden = any(a - sc.min_gap_s < t + duration and t < b + sc.min_gap_s for a, b in off_intervals)
        if not hidden:
            spasms.append(TrueSpasm(t, t + duration, kind, channel, amplitude, clonus_hz))
        t += duration
    return spasms


def _add_activation(
    activation: FloatArray, spasm: TrueSpasm, fs: float, rng: np.random.Generator, slowing_hz: float = 0.0
) -> None:
    """Write the spasm's amplitude profile (RMS mV over time) into ``activation``."""
    lo = round(spasm.onset_s * fs)
    hi = round(spasm.offset_s * fs)
    n = hi - lo
    t = np.arange(n) / fs
    a = spasm.amplitude_mv
    if spasm.kind == "myoclonic":
        profile = a * np.sin(np.pi * (np.arange(n) + 0.5) / n) ** 0.5
    elif spasm.kind == "tonic":
        profile = a * _ramped_plateau(t, spasm.duration_s, rng)
    elif spasm.kind == "clonus":
        assert spasm.clonus_hz is not None
        profile = a * _clonic_bursts(t, spasm.clonus_hz, rng, slowing_hz)
    else:
        assert spasm.clonus_hz is not None
        # Mixed: a tonic phase holding, then breaking into clonus (or the reverse).
        split_s = spasm.duration_s * rng.uniform(0.35, 0.65)
        tonic_first = rng.random() < 0.5
        tonic_part = _ramped_plateau(t, spasm.duration_s, rng)
        clonic_part = _clonic_bursts(t, spasm.clonus_hz, rng, slowing_hz)
        in_tonic = (t < split_s) if tonic_first else (t >= split_s)
        profile = a * np.where(in_tonic, tonic_part, clonic_part * _edge_ramp(t, spasm.duration_s))
    activation[lo:hi] = np.maximum(activation[lo:hi], profile)


def _edge_ramp(t: FloatArray, duration_s: float, rise_s: float = 0.05) -> FloatArray:
    return np.clip(np.minimum(t / rise_s, (duration_s - t) / rise_s), 0.0, 1.0)


def _ramped_plateau(t: FloatArray, duration_s: float, rng: np.random.Generator) -> FloatArray:
    """Fast rise (reflex onset), slowly wavering plateau, slower decay."""
    rise_s = min(rng.uniform(0.05, 0.3), duration_s / 4)
    fall_s = min(rng.uniform(0.2, 1.0), duration_s / 3)
    up = np.clip(t / rise_s, 0.0, 1.0)
    down = np.clip((duration_s - t) / fall_s, 0.0, 1.0)
    waver = 1.0 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t + rng.uniform(0, 2 * np.pi))
    shape: FloatArray = np.minimum(up, down) * waver / 1.15
    return shape


def _clonic_bursts(
    t: FloatArray, rate_hz: float, rng: np.random.Generator, slowing_hz: float = 0.0
) -> FloatArray:
    """Bursts at ``rate_hz`` (±2 % cycle jitter), each a half-sine over 35–55 % of a cycle.

    With ``slowing_hz`` the rhythm is that much slower at the start and the end (never
    below ``CLONUS_EDGE_MIN_HZ``), returning linearly to ``rate_hz`` over the first and
    last quarter of the episode, at most ``CLONUS_EDGE_S`` each.
    """
    duty = rng.uniform(0.35, 0.55)
    n_cycles = int(np.ceil(t[-1] * rate_hz)) + 2 if t.size else 0
    jitter = 1.0 + 0.02 * rng.standard_normal(n_cycles)
    if slowing_hz > 0 and t.size:
        duration_s = float(t[-1])
        edge_s = min(duration_s / 4, CLONUS_EDGE_S)
        slowest_hz = max(rate_hz - slowing_hz, CLONUS_EDGE_MIN_HZ)
        periods = np.empty(n_cycles)
        start_s = 0.0
        for k in range(n_cycles):
            nearest_edge_s = min(start_s, max(duration_s - start_s, 0.0))
            share = min(nearest_edge_s / edge_s, 1.0) if edge_s > 0 else 1.0
            periods[k] = jitter[k] / (slowest_hz + share * (rate_hz - slowest_hz))
            start_s += periods[k]
    else:
        periods = (1.0 / rate_hz) * jitter
    starts = np.concatenate([[0.0], np.cumsum(periods)[:-1]])
    cycle = np.searchsorted(starts, t, side="right") - 1
    phase = (t - starts[cycle]) / periods[cycle]
    burst = np.where(phase < duty, np.sin(np.pi * phase / duty), 0.0)
    strength = rng.uniform(0.7, 1.0, n_cycles)[cycle]
    return burst * strength


def _impedance_gain(sc: EmgScenario, t_s: FloatArray, rng: np.random.Generator) -> FloatArray:
    period_s = rng.uniform(2.0, 8.0) * 3600.0
    return 1.0 + sc.impedance_drift * np.sin(2 * np.pi * t_s / period_s + rng.uniform(0, 2 * np.pi))


def _floor_drift(sc: EmgScenario, t_s: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Gain of the rest noise wandering in [1 / ratio, 1]: smooth moves between random levels.

    Each move is a raised-cosine step lasting ``floor_drift_s``; levels are log-uniform,
    so the floor spends as long near its low as near its high end.
    """
    if sc.floor_drift_ratio == 1.0 or not t_s.size:
        return np.ones_like(t_s)
    log_low = -np.log(sc.floor_drift_ratio)
    level = rng.uniform(log_low, 0.0)
    log_gain = np.full_like(t_s, level)
    start_s = 0.0
    while start_s < t_s[-1]:
        move_s = rng.uniform(*sc.floor_drift_s)
        target = rng.uniform(log_low, 0.0)
        x = np.clip((t_s - start_s) / move_s, 0.0, 1.0)
        after = t_s >= start_s
        log_gain[after] = level + (target - level) * (1 - np.cos(np.pi * x[after])) / 2
        level, start_s = target, start_s + move_s
    gain: FloatArray = np.exp(log_gain)
    return gain


def _rest_artefacts(
    sc: EmgScenario, rng: np.random.Generator, channel: int, spasms: list[TrueSpasm]
) -> list[TrueArtefact]:
    """Dense small knocks in rest (heel strikes, tremor), never within 1 s of a spasm."""
    if sc.rest_artefacts_per_s == 0:
        return []
    knocks = []
    t = rng.exponential(1.0 / sc.rest_artefacts_per_s)
    while t < sc.duration_s - 0.2:
        stop = t + 1.0 / rng.uniform(*REST_ARTEFACT_HZ)
        if not any(s.onset_s - 1.0 < stop and t < s.offset_s + 1.0 for s in spasms):
            knocks.append(TrueArtefact(t, stop, "motion_spike", channel))
        t = stop + rng.exponential(1.0 / sc.rest_artefacts_per_s)
    return knocks


def _hum(sc: EmgScenario, t_s: FloatArray, rng: np.random.Generator) -> FloatArray:
    if sc.mains_hz is None or sc.mains_mv == 0:
        return np.zeros_like(t_s)
    hum = np.zeros_like(t_s)
    nyquist = sc.sample_rate_hz / 2
    # Odd harmonics dominate mains interference (transformer and rectifier nonlinearity).
    for harmonic, rel in ((1, 1.0), (2, 0.1), (3, 0.35), (5, 0.15), (7, 0.05)):
        f = harmonic * sc.mains_hz
        if f < nyquist:
            hum += rel * np.sin(2 * np.pi * f * t_s + rng.uniform(0, 2 * np.pi))
    amplitude = sc.mains_mv * (1.0 + 0.2 * np.sin(2 * np.pi * t_s / rng.uniform(60, 600)))
    result: FloatArray = amplitude * hum
    return result


def _wander(sc: EmgScenario, t_s: FloatArray, rng: np.random.Generator) -> FloatArray:
    if sc.wander_mv == 0:
        return np.zeros_like(t_s)
    wander = np.zeros_like(t_s)
    for _ in range(3):
        wander += np.sin(2 * np.pi * rng.uniform(0.05, 0.8) * t_s + rng.uniform(0, 2 * np.pi))
    result: FloatArray = sc.wander_mv / 3 * wander
    return result


def _ecg(sc: EmgScenario, t_s: FloatArray, rng: np.random.Generator) -> FloatArray:
    """QRS complexes (Gaussian Q, R, S waves) with heart-rate variability."""
    if sc.ecg_mv == 0:
        return np.zeros_like(t_s)
    ecg = np.zeros_like(t_s)
    fs = sc.sample_rate_hz
    beat_s = 60.0 / sc.heart_rate_bpm
    t = rng.uniform(0, beat_s)
    offsets = np.arange(-0.06, 0.06, 1 / fs)
    qrs = (
        -0.15 * np.exp(-(((offsets + 0.025) / 0.008) ** 2))
        + 1.0 * np.exp(-((offsets / 0.010) ** 2))
        - 0.25 * np.exp(-(((offsets - 0.025) / 0.009) ** 2))
    )
    while t < t_s[-1] - 0.1:
        i = round(t * fs) - offsets.size // 2
        if i >= 0:
            ecg[i : i + offsets.size] += sc.ecg_mv * qrs
        t += beat_s * (1.0 + 0.05 * rng.standard_normal())
    return ecg


def _motion_spikes(
    sc: EmgScenario, rng: np.random.Generator, channel: int, spasms: list[TrueSpasm]
) -> list[TrueArtefact]:
    count = rng.poisson(sc.motion_spikes_per_min * sc.duration_s / 60.0)
    spikes = []
    for _ in range(count):
        start = rng.uniform(1.0, max(sc.duration_s - 2.0, 1.0))
        stop = start + rng.uniform(0.03, 0.15)
        # Knocks during a spasm are possible but would make the truth ambiguous.
        if not any(s.onset_s - 1.0 < stop and start < s.offset_s + 1.0 for s in spasms):
            spikes.append(TrueArtefact(start, stop, "motion_spike", channel))
    return spikes


def _add_motion_spike(
    signal: FloatArray,
    spike: TrueArtefact,
    fs: float,
    amplitude_range_mv: tuple[float, float],
    rng: np.random.Generator,
) -> None:
    """A biphasic step-and-recover transient: the electrode is knocked, then settles."""
    lo = round(spike.onset_s * fs)
    n = max(round((spike.offset_s - spike.onset_s) * fs), 2)
    x = np.linspace(0.0, 1.0, n)
    amplitude = float(np.exp(rng.uniform(*np.log(np.array(amplitude_range_mv)))))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    shape = np.sin(np.pi * x) * np.exp(-3.0 * x) * (1.0 - 1.6 * x)
    end = min(lo + n, signal.size)
    signal[lo:end] += sign * amplitude * shape[: end - lo] / np.max(np.abs(shape))


def _add_electrode_swing(signal: FloatArray, knock: TrueArtefact, fs: float, amplitude_mv: float) -> None:
    """One Hann-windowed sine cycle over the knock: a smooth swing of the electrode."""
    lo = round(knock.onset_s * fs)
    n = max(round(knock.duration_s * fs), 2)
    x = np.arange(n) / n
    shape = np.sin(2 * np.pi * x) * np.sin(np.pi * x) ** 2
    end = min(lo + n, signal.size)
    signal[lo:end] += amplitude_mv * shape[: end - lo] / np.max(np.abs(shape))


def _clipped_runs(signal: FloatArray, full_scale_mv: float, fs: float, channel: int) -> list[TrueArtefact]:
    clipped = np.abs(signal) >= full_scale_mv
    if not clipped.any():
        return []
    edges = np.diff(np.concatenate([[0], clipped.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return [
        TrueArtefact(float(a / fs), float(b / fs), "clipping", channel)
        for a, b in zip(starts, stops, strict=True)
    ]
