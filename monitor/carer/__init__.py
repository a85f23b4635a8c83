"""What a carer reads: the one-screen status of the home's wearables (``spasm-monitor status``)."""

from monitor.carer.screen import AlertLine, CarerStatus, WearableLine, carer_status

__all__ = ["AlertLine", "CarerStatus", "WearableLine", "carer_status"]
