"""Gate ``performance``: Lighthouse lab results and field Web Vitals within the runbook's budgets.

Lab results are judged exactly as ``lhci assert`` judges them, so a team moving between the two
gets the same verdict: runs are grouped by ``finalUrl``; each budget is an assertion
(``maxNumericValue`` on the audit's ``numericValue``, ``minScore`` on its score, with
notApplicable counting 1 and informative 0); several runs combine by the aggregation method
(``optimistic``: the best run per assertion, LHCI's default; ``pessimistic``: the worst;
``median``); an audit missing from any run fails as "did not run", one without a usable value
fails as "produced no value" — never a silent pass.

The runbook asks for FID < 100 ms, which a lab run cannot measure; Total Blocking Time is
Lighthouse's lab proxy for it. ``max-potential-fid`` is not used: it is the single longest task,
and flags pages that are plainly fast (138 ms on a page scoring 1.0).

Field data (``--vitals``) is judged directly on p75 values: LCP, CLS, and FID and/or INP.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from aikinklab_ops.config import Config
from aikinklab_ops.errors import InputError
from aikinklab_ops.gates.base import GateContext, read_text
from aikinklab_ops.gates.settings import Budget, GateInputs, build_settings
from aikinklab_ops.report import CheckResult, Status, run_check

NAME = "performance"
LABEL = "Performance benchmarks met"
LAB_PRODUCER = "the Lighthouse step: `lhci collect` (writes .lighthouseci/lhr-*.json) or `lighthouse URL --output=json`"
_SHORT = {
    "largest-contentful-paint": "LCP",
    "cumulative-layout-shift": "CLS",
    "total-blocking-time": "TBT",
    "first-contentful-paint": "FCP",
    "speed-index": "SI",
    "interactive": "TTI",
}
# Field metric -> (web_vitals key, CrUX API metric name, unit)
_FIELD = {
    "LCP": ("lcp_ms", "largest_contentful_paint", "ms"),
    "CLS": ("cls", "cumulative_layout_shift", ""),
    "INP": ("inp_ms", "interaction_to_next_paint", "ms"),
    "FID": ("fid_ms", "first_input_delay", "ms"),
}


@dataclass(frozen=True)
class Lhr:
    file: str
    url: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class FieldRecord:
    file: str
    url: str
    p75: Mapping[str, float | None]


@dataclass(frozen=True)
class Assertion:
    url: str
    key: str  # audit id or categories:<id>
    kind: str  # maxNumericValue | minScore | auditRan
    expected: float
    actual: float | None
    values: tuple[float | None, ...]
    passed: bool
    level: str
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        op = {"maxNumericValue": "<=", "minScore": ">=", "auditRan": "=="}[self.kind]
        out: dict[str, Any] = {
            "assertion": f"{self.key}.{self.kind}",
            "expected": f"{op} {_num(self.expected)}",
            "actual": self.actual,
            "values": list(self.values),
            "passed": self.passed,
            "level": self.level,
        }
        if self.message:
            out["message"] = self.message
        return out

    def sentence(self) -> str:
        name = _SHORT.get(self.key, self.key)
        if self.kind == "auditRan":
            return f"{name}: {self.message}"
        if self.actual is None:
            return f"{name}: {self.message}"
        op = ">" if self.kind == "maxNumericValue" else "<"
        unit = " ms" if self.kind == "maxNumericValue" and self.key not in ("cumulative-layout-shift",) else ""
        what = "" if self.kind == "maxNumericValue" else " score"
        return f"{name}{what} {_num(self.actual)}{unit} {op} {_num(self.expected)}"


def _num(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.4g}"


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# ---------------------------------------------------------------- reading


def _load_json(path: Path, what: str, producer: str) -> Any:
    text = read_text(path, what, producer)
    if not text.strip():
        raise InputError(f"{path}: empty file ({what})", hint=f"it is usually written by {producer}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"{path}:{err.lineno}: not valid JSON ({err.msg}, column {err.colno})",
            hint="the file is truncated or not a report; re-run the step that writes it",
        ) from None


def _lhr_url(data: Mapping[str, Any]) -> str:
    for key in ("finalUrl", "finalDisplayedUrl", "mainDocumentUrl", "requestedUrl"):
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])
    return "(unknown URL)"


def _is_lhr(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("audits"), Mapping) and "lighthouseVersion" in data


def _field_records(data: Any, file: str) -> list[FieldRecord] | None:
    """Our shape ``{"url", "metrics": {"LCP": {"p75": …}}}`` (one, a list, or ``{"records": […]}``)
    or a CrUX API ``queryRecord`` answer ``{"record": {"key": {…}, "metrics": {…percentiles.p75}}}``."""
    if isinstance(data, list):
        out = []
        for item in data:
            got = _field_records(item, file)
            if got is None:
                return None
            out += got
        return out
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("records"), list):
        return _field_records(data["records"], file)
    if isinstance(data.get("record"), Mapping):
        rec = data["record"]
        key = rec.get("key") or {}
        url = str(key.get("url") or key.get("origin") or "(unknown URL)")
        metrics = rec.get("metrics") or {}
        p75: dict[str, float | None] = {}
        for short, (_cfg, crux, _unit) in _FIELD.items():
            m = metrics.get(crux)
            if isinstance(m, Mapping):
                p75[short] = _as_float((m.get("percentiles") or {}).get("p75"))
        return [FieldRecord(file, url, p75)]
    if isinstance(data.get("metrics"), Mapping):
        p75 = {}
        for name, value in data["metrics"].items():
            short = str(name).upper()
            if short not in _FIELD:
                continue
            p75[short] = _as_float(value.get("p75") if isinstance(value, Mapping) else value)
        return [FieldRecord(file, str(data.get("url") or data.get("origin") or "(unknown URL)"), p75)]
    return None


def _as_float(value: Any) -> float | None:
    try:
        out = float(value)  # CrUX gives CLS p75 as a string, "0.05"
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def load_performance_inputs(paths: Sequence[Path]) -> tuple[list[Lhr], list[FieldRecord]]:
    lhrs: list[Lhr] = []
    field: list[FieldRecord] = []
    for path in paths:
        if path.is_dir():
            files = sorted(path.glob("lhr-*.json"))
            if not files:
                raise InputError(
                    f"{path}: no lhr-*.json in this folder", hint=f"it is usually filled by {LAB_PRODUCER}"
                )
        else:
            files = [path]
        for file in files:
            data = _load_json(file, "Lighthouse or Web Vitals report", LAB_PRODUCER)
            if _is_lhr(data):
                lhrs.append(Lhr(str(file), _lhr_url(data), data))
                continue
            records = _field_records(data, str(file))
            if records is None:
                raise InputError(
                    f"{file}: neither a Lighthouse report (no `audits`/`lighthouseVersion`) nor a Web Vitals file",
                    hint='a Web Vitals file looks like {"url": "https://…", "metrics": '
                    '{"LCP": {"p75": 2100}, "CLS": {"p75": 0.05}, "INP": {"p75": 150}}}',
                )
            field += records
    return lhrs, field


# ---------------------------------------------------------------- lab: LHCI's assertion semantics

_MISSING: Any = object()  # JavaScript's undefined, as opposed to a JSON null


def _score_value(result: Mapping[str, Any]) -> float | None:
    score: Any = result.get("score")
    if _finite(score):
        return float(score)
    mode = result.get("scoreDisplayMode")
    if mode == "notApplicable":
        return 1.0
    if mode == "informative":
        return 0.0
    return None


def _aggregate(values: Sequence[float], method: str, kind: str) -> float:
    if method == "median":
        return float(median(values))
    use_min = (method == "optimistic" and kind.startswith("max")) or (
        method == "pessimistic" and kind.startswith("min")
    )
    return min(values) if use_min else max(values)


def _assert_values(
    url: str, budget: Budget, kind: str, expected: float, results: Sequence[Mapping[str, Any]], method: str
) -> Assertion:
    if kind == "maxNumericValue":
        raw: list[Any] = [r.get("numericValue", _MISSING) for r in results]
    else:
        # LHCI's getter: a number, 1 for notApplicable, 0 for informative, else no value at all.
        raw = [_MISSING if (v := _score_value(r)) is None else v for r in results]
    values = [float(v) if _finite(v) else None for v in raw]
    finite = [v for v in values if v is not None]
    if (not finite and method != "pessimistic") or (len(finite) != len(values) and method == "pessimistic"):
        errors = [str(r.get("errorMessage")) for r in results if r.get("errorMessage")]
        if any(v is _MISSING for v in raw):
            msg = f"the audit produced no {'numericValue' if kind == 'maxNumericValue' else 'score'} at all"
        else:
            msg = "the audit failed to produce a valid value"
        if method == "pessimistic" and finite:
            msg += " in some runs (pessimistic needs every run)"
        if errors:
            msg += f": {errors[0]}"
        return Assertion(url, budget.key, kind, expected, None, tuple(values), False, budget.level, msg)
    actual = _aggregate(finite, method, kind)
    passed = actual <= expected if kind == "maxNumericValue" else actual >= expected
    return Assertion(url, budget.key, kind, expected, actual, tuple(values), passed, budget.level)


def assert_lhrs(lhrs: Sequence[Lhr], budgets: Sequence[Budget], method: str) -> list[Assertion]:
    by_url: dict[str, list[Lhr]] = {}
    for lhr in lhrs:
        by_url.setdefault(lhr.url, []).append(lhr)
    out: list[Assertion] = []
    for url, runs in by_url.items():
        for budget in budgets:
            key = budget.key.replace("categories.", "categories:")
            results: list[Mapping[str, Any] | None]
            if key.startswith("categories:"):
                cat = key.split(":", 1)[1]
                results = [
                    {"score": c.get("score")}
                    if isinstance(cats := r.data.get("categories"), Mapping) and isinstance(c := cats.get(cat), Mapping)
                    else None
                    for r in runs
                ]
            else:
                results = [a if isinstance(a := r.data["audits"].get(key), Mapping) else None for r in runs]
            missing = sum(1 for r in results if r is None)
            if missing:
                what = "category" if key.startswith("categories:") else "audit"
                out.append(
                    Assertion(
                        url,
                        budget.key,
                        "auditRan",
                        1,
                        0,
                        tuple(0.0 if r is None else 1.0 for r in results),
                        False,
                        budget.level,
                        f"the {what} did not run (missing in {missing} of {len(results)} runs)",
                    )
                )
                continue
            present = [r for r in results if r is not None]
            kinds: list[tuple[str, float]] = []
            if budget.max_numeric_value is not None:
                kinds.append(("maxNumericValue", budget.max_numeric_value))
            if budget.min_score is not None or budget.max_numeric_value is None:
                kinds.append(("minScore", 0.9 if budget.min_score is None else budget.min_score))
            for kind, expected in kinds:
                out.append(_assert_values(url, budget, kind, expected, present, method))
    return out


# ---------------------------------------------------------------- field


def assert_field(
    records: Sequence[FieldRecord], budgets: Mapping[str, float]
) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for rec in records:
        for short, (cfg_key, _crux, unit) in _FIELD.items():
            limit = budgets.get(cfg_key)
            value = rec.p75.get(short)
            if short not in rec.p75:
                if short in ("LCP", "CLS"):
                    problems.append(f"{rec.url}: field {short} p75 missing in {rec.file}")
                continue
            if value is None:
                problems.append(f"{rec.url}: field {short} p75 has no usable value in {rec.file}")
                continue
            if limit is None:
                continue
            passed = value <= limit
            rows.append({"url": rec.url, "metric": short, "p75": value, "max": limit, "passed": passed})
            if not passed:
                problems.append(
                    f"field {short} p75 {_num(value)}{' ' + unit if unit else ''} > {_num(limit)} at {rec.url}"
                )
        if "FID" not in rec.p75 and "INP" not in rec.p75:
            problems.append(f"{rec.url}: neither FID nor INP p75 in {rec.file}")
    return rows, problems


# ---------------------------------------------------------------- verdict


def evaluate_performance(
    lhrs: Sequence[Lhr],
    field: Sequence[FieldRecord],
    budgets: Sequence[Budget],
    vitals_budgets: Mapping[str, float],
    method: str,
    name: str = NAME,
) -> CheckResult:
    if not lhrs and not field:
        raise InputError(
            "no Lighthouse report or Web Vitals file to judge", hint=f"they are usually written by {LAB_PRODUCER}"
        )
    assertions = assert_lhrs(lhrs, budgets, method) if lhrs else []
    rows, field_problems = assert_field(field, vitals_budgets)
    errors = [a for a in assertions if not a.passed and a.level == "error"]
    warns = [a for a in assertions if not a.passed and a.level == "warn"]
    urls = sorted({lhr.url for lhr in lhrs})
    details: dict[str, Any] = {"aggregate": method}
    if lhrs:
        details["lab"] = [
            {
                "url": url,
                "runs": [lhr.file for lhr in lhrs if lhr.url == url],
                "assertions": [a.to_dict() for a in assertions if a.url == url],
            }
            for url in urls
        ]
        details["fid_proxy"] = "total-blocking-time (FID cannot be measured in a lab run)"
    if field:
        details["field"] = rows
    if field_problems:
        details["field_problems"] = field_problems
    where = f"{len(urls)} URL{'s' if len(urls) != 1 else ''}, {len(lhrs)} run{'s' if len(lhrs) != 1 else ''} ({method})"
    failing = [a.sentence() + (f" at {a.url}" if len(urls) > 1 else "") for a in errors] + field_problems
    if failing:
        scope = f" at {urls[0]}" if len(urls) == 1 and errors else ""
        return CheckResult(name, Status.FAIL, "; ".join(failing) + scope, details, label=_label(name))
    passed_lab = [a for a in assertions if a.passed and a.key in _SHORT and a.kind == "maxNumericValue"]
    parts = [
        f"{_SHORT[a.key]} {_num(a.actual or 0)}{'' if a.key == 'cumulative-layout-shift' else ' ms'}"
        for a in passed_lab[:4]
    ]
    if rows:
        parts.append(f"field p75 ok ({', '.join(sorted({r['metric'] for r in rows}))})")
    head = ", ".join(parts) if parts else f"{len(assertions)} budgets met"
    tail = f" — {where}" if lhrs else ""
    if warns:
        return CheckResult(
            name,
            Status.WARN,
            f"{head}{tail}; warnings: " + "; ".join(a.sentence() for a in warns),
            details,
            label=_label(name),
        )
    return CheckResult(name, Status.PASS, head + tail, details, label=_label(name))


def _label(name: str) -> str | None:
    """The runbook's wording belongs to the gate; ``verify`` names its own checks."""
    return LABEL if name == NAME else None


def check_performance(paths: list[Path], cfg: Config, *, name: str = NAME) -> CheckResult:
    """Judge Lighthouse reports / LHCI folders / Web Vitals files with the config's budgets.

    The entry the verify command uses for ``verify --vitals`` (``name="web-vitals"``); files
    are told apart by content, so one list can mix lab and field inputs. Problems reading them
    become an ``error`` result rather than an exception.
    """
    settings = build_settings(cfg, GateInputs(lighthouse=(), vitals=()))

    def go() -> CheckResult:
        lhrs, field = load_performance_inputs(paths)
        return evaluate_performance(lhrs, field, settings.budgets, settings.vitals_budgets, settings.aggregate, name)

    return run_check(name, go)


def run(ctx: GateContext) -> CheckResult:
    s = ctx.settings
    lhrs, field = load_performance_inputs([*s.lighthouse, *s.vitals])
    return evaluate_performance(lhrs, field, s.budgets, s.vitals_budgets, s.aggregate)
