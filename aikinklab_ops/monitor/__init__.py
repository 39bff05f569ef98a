"""The production monitor: probe health and the critical pages, keep a history, judge the SLA."""

from aikinklab_ops.monitor.core import CHECKS, MonitorResult, run_monitor
from aikinklab_ops.monitor.settings import MonitorSettings, build_monitor_settings, parse_duration
from aikinklab_ops.monitor.sla import Figures, figures, percentile

__all__ = [
    "CHECKS",
    "Figures",
    "MonitorResult",
    "MonitorSettings",
    "build_monitor_settings",
    "figures",
    "parse_duration",
    "percentile",
    "run_monitor",
]
