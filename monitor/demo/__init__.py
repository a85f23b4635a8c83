"""The demo's simulated treatment history: weeks of synthetic monitoring through the Pipeline.

:func:`simulate_history` builds it into a spool (:func:`build_history_file` into a spool
file, for a worker next to the live demo), feeding the demo's own wearables
(:mod:`monitor.demo.wearables`, the live part's ``[[device]]`` tables) through
:class:`~monitor.pipeline.Pipeline`; :class:`TreatmentCourse` is the course it follows
(injection effect, night spasms, PT range of motion); :func:`summary_lines` prints it.
"""

from monitor.demo.course import TreatmentCourse
from monitor.demo.history import SIMULATED_TAGS, build_history_file, simulate_history
from monitor.demo.summary import DaySummary, HistorySummary, summary_lines
from monitor.demo.wearables import DEMO_WEARABLES, demo_config

__all__ = [
    "DEMO_WEARABLES",
    "SIMULATED_TAGS",
    "DaySummary",
    "HistorySummary",
    "TreatmentCourse",
    "build_history_file",
    "demo_config",
    "simulate_history",
    "summary_lines",
]
