"""Test support: a real ``lhci assert`` (Lighthouse CI 0.15.1) to compare the performance gate with.

``lhci`` is installed once with npm into a cache folder (``$AIKINKLAB_LHCI_DIR``, default
``$TMPDIR/aikinklab-ops-lhci-0.15.1``); it needs only the npm registry, and ``lhci assert`` runs
offline. Run ``python tests/gates/gates_lhci.py`` to install it ahead of the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

LHCI_VERSION = "0.15.1"


class LhciUnavailable(RuntimeError):
    pass


def lhci_dir() -> Path:
    default = Path(tempfile.gettempdir()) / f"aikinklab-ops-lhci-{LHCI_VERSION}"
    return Path(os.environ.get("AIKINKLAB_LHCI_DIR", default))


def ensure_lhci() -> Path:
    """The ``lhci`` executable, installing it on first use."""
    folder = lhci_dir()
    exe = folder / "node_modules" / ".bin" / "lhci"
    if exe.exists():
        return exe
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise LhciUnavailable("node and npm are needed to install @lhci/cli")
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(folder),
         f"@lhci/cli@{LHCI_VERSION}"],
        capture_output=True, text=True, timeout=170, check=False,
        env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"},
    )  # fmt: skip
    if proc.returncode != 0 or not exe.exists():
        raise LhciUnavailable(f"npm install @lhci/cli@{LHCI_VERSION} failed: {proc.stderr[-800:]}")
    return exe


def lhci_assert(
    lhrs: Sequence[Mapping[str, Any]], assertions: Mapping[str, Any], aggregation: str, work: Path
) -> tuple[int, list[dict[str, Any]]]:
    """Run ``lhci assert`` on ``lhrs``; return its exit code and its assertion results (failures)."""
    exe = ensure_lhci()
    work.mkdir(parents=True, exist_ok=True)
    store = work / ".lighthouseci"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir()
    for i, lhr in enumerate(lhrs):
        (store / f"lhr-{1764720000000 + i}.json").write_text(json.dumps(lhr))
    rc = work / "lighthouserc.json"
    rc.write_text(json.dumps({"ci": {"assert": {"aggregationMethod": aggregation, "assertions": assertions}}}))
    proc = subprocess.run(
        [str(exe), "assert", f"--config={rc}"], cwd=work, capture_output=True, text=True, timeout=120, check=False
    )
    results_file = store / "assertion-results.json"
    if proc.returncode not in (0, 1) or not results_file.exists():
        raise LhciUnavailable(f"lhci assert failed to run (exit {proc.returncode}): {proc.stderr[-800:]}")
    return proc.returncode, json.loads(results_file.read_text())


if __name__ == "__main__":
    print(ensure_lhci())
    sys.exit(0)
