"""The demo's simulated treatment history: weeks of synthetic monitoring through the real DSP.

:func:`simulate_history` builds it into a spool; :class:`TreatmentCourse` is the course it
follows (injection effect, night spasms, PT range of motion).
"""

from monitor.clinical.scores import OBSERVATION
from monitor.demo.course import TreatmentCourse
from monitor.demo.history import (
    SIMULATED_TAGS,
    DaySummary,
    HistorySummary,
    simulate_history,
)

__all__ = [
    "OBSERVATION",
    "SIMULATED_TAGS",
    "DaySummary",
    "HistorySummary",
    "TreatmentCourse",
    "simulate_history",
]
