"""Clinical summaries of the spasm record stream, in the scales clinicians already use.

- :mod:`~monitor.clinical.penn`: Penn Spasm Frequency Scale (0–4) per hour and per day, and
  a Penn-style severity grade (1–3) per spasm.
- :mod:`~monitor.clinical.snow`: Snow's 24-hour spasm frequency score (1–5).
- :mod:`~monitor.clinical.daynight`: day versus night counts in the patient's local time.
- :mod:`~monitor.clinical.observed`: observed time, the one denominator of every rate.
- :mod:`~monitor.clinical.enough`: the one rule for enough observed time to state a rate.
- :mod:`~monitor.clinical.prepost`: spasms per observed hour before and after each injection.
- :mod:`~monitor.clinical.cycle`: the Botox cycle's windows, weekly curve and rate ratios (95 % CI).
- :mod:`~monitor.clinical.response`: onset, peak-effect and wearing-off days per cycle, as
  ``treatment_response`` records.
- :mod:`~monitor.clinical.severity`: severity graded against the patient's reference period.
- :mod:`~monitor.clinical.rom_weekly`: weekly best range of motion per joint.
- :mod:`~monitor.clinical.scores`: all of the above as ``clinical_score`` records.

Everything here is pure: records in, numbers or records out, time from the records.
"""

import lazy_loader

# Submodules load on first use: `spasm-monitor status` need not wait for scipy or the BLE stack.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
