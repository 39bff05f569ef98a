"""The pre-deploy checklist as gates: tests, security audit, performance, migrations, flags, monitoring.

Each gate is one module with ``NAME``, ``LABEL`` (the runbook's wording, rendered as the
checklist in the job summary) and ``run(ctx) -> CheckResult``; ``GATES`` is the one registry.
A gate that cannot do its job (a missing input file) becomes an ``error`` result through
``run_check``, so one broken input never hides the verdict of the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

from aikinklab_ops.config import Config
from aikinklab_ops.errors import UsageError
from aikinklab_ops.gates import flags, migrations, monitoring, npm_audit, performance, tests_gate
from aikinklab_ops.gates.base import CommitChecksSource, Gate, GateContext
from aikinklab_ops.gates.performance import check_performance
from aikinklab_ops.gates.settings import GATE_NAMES, GateInputs, build_settings
from aikinklab_ops.report import Report, run_check

GATES: dict[str, Gate] = {
    m.NAME: Gate(m.NAME, m.LABEL, m.run) for m in (tests_gate, npm_audit, performance, migrations, flags, monitoring)
}

__all__ = ["GATES", "GATE_NAMES", "GateInputs", "check_performance", "run_gates", "select_gates"]


def select_gates(configured: Sequence[str], only: Sequence[str] | None, skip: Sequence[str] | None) -> list[str]:
    """The gates to run, in checklist order; an unknown name is a usage error, not a silent no-op."""
    for flag, names in (("--only", only), ("--skip", skip)):
        unknown = [n for n in names or () if n not in GATES]
        if unknown:
            raise UsageError(
                f"{flag}: unknown gate {', '.join(repr(u) for u in unknown)}",
                hint="choose from " + ", ".join(GATE_NAMES),
            )
    chosen = list(only) if only else list(configured)
    chosen = [n for n in GATE_NAMES if n in chosen and n not in set(skip or ())]
    if not chosen:
        raise UsageError("no gate left to run", hint="--skip removed every gate; an empty checklist proves nothing")
    return chosen


def run_gates(
    cfg: Config,
    inputs: GateInputs,
    *,
    only: Sequence[str] | None = None,
    skip: Sequence[str] | None = None,
    github: CommitChecksSource | None = None,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda _text: None,
) -> Report:
    """Run the checklist; ``github`` reads the commit's checks (``None``: JUnit reports only)."""
    t0 = time.monotonic()
    settings = build_settings(cfg, inputs)
    names = select_gates(settings.checks, only, skip)
    ctx = GateContext(cfg=cfg, settings=settings, inputs=inputs, github=github, sleep=sleep, log=log)
    results = []
    for name in names:
        gate = GATES[name]
        result = run_check(name, partial(gate.run, ctx))
        results.append(replace(result, label=gate.label))
    outputs = {"failed": ",".join(r.name for r in results if r.status.failing)}
    return Report(
        "gate",
        tuple(results),
        target=inputs.environment,
        duration_s=time.monotonic() - t0,
        outputs=outputs,
    )
