"""The bundled example gate inputs, so a demo can run the real gate on files shaped like CI's."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aikinklab_ops.gates.settings import GateInputs


def artifacts_dir() -> Path:
    return Path(str(resources.files("aikinklab_ops.examples").joinpath("artifacts")))


def example_inputs(cwd: Path, *, environment: str | None = "production") -> GateInputs:
    """Inputs under which every gate passes (migrations skips: no database), without GitHub."""
    a = artifacts_dir()
    return GateInputs(
        cwd=cwd,
        junit=(a / "junit.xml",),
        audit_reports=(a / "npm-audit.json",),
        lighthouse=(a / "lighthouse",),
        vitals=(),
        flags=a / "feature-flags.yml",
        monitoring=a / "monitoring.yml",
        environment=environment,
    )
