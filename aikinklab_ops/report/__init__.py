"""One result model for everything that checks something, and its renderers."""

from aikinklab_ops.report.model import CheckResult, Report, Status, run_check

__all__ = ["CheckResult", "Report", "Status", "run_check"]
