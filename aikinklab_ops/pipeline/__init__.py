"""The runbook end to end: gate -> deploy -> verify -> (production) roll back -> incident."""

from aikinklab_ops.pipeline.flow import Deployed, RolledBack, Steps, run_pipeline

__all__ = ["Deployed", "RolledBack", "Steps", "run_pipeline"]
