"""The Observatory's Strict-Transport-Security test.

It reads ``max-age`` with JavaScript's ``parseInt``, which gives NaN for ``max-age="31536000"``
(the quoted form RFC 6797 allows) and for ``max-age=abc``; NaN is not below six months, so such a
header passes as "at least six months". We grade it the same way and warn about it (``extras``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from aikinklab_ops.verify.observatory.page import Headers

# 15768000 s is six months; the Observatory accepts the 15552000 many sites use.
SIX_MONTHS = 15552000
_JS_INT = re.compile(r"^[\s\ufeff\xa0]*([+-]?\d+)")


def js_parse_int(text: str) -> float:
    """``Number.parseInt(text, 10)``: leading digits after optional space and sign, else NaN."""
    m = _JS_INT.match(text)
    return float(int(m.group(1))) if m else math.nan


@dataclass
class HstsAnalysis:
    result: str
    reason: str
    passed: bool
    max_age: float | None = None
    raw_max_age: str | None = None
    include_subdomains: bool = False
    preload: bool = False


def is_preloaded(host: str, preloaded: frozenset[str]) -> bool:
    labels = host.lower().rstrip(".").split(".")
    return any(".".join(labels[i:]) in preloaded for i in range(len(labels)))


def analyze_hsts(
    headers: Headers, *, https_available: bool, cert_valid: bool, host: str, preloaded: frozenset[str]
) -> HstsAnalysis:
    out = HstsAnalysis("hsts-not-implemented", "no Strict-Transport-Security header", passed=False)
    value = headers.get("strict-transport-security")
    if not https_available:
        out.result, out.reason = "hsts-not-implemented-no-https", "the site is not served over HTTPS"
    elif not cert_valid:
        out.result, out.reason = "hsts-invalid-cert", "browsers ignore HSTS from a certificate that does not verify"
    elif value is not None:
        data = value[:1024]
        if "," in data:
            out.result, out.reason = "hsts-header-invalid", "the header is sent more than once (or contains a comma)"
        else:
            seen_max_age = False
            for parameter in (p.strip().lower() for p in data.split(";")):
                if parameter.startswith("max-age="):
                    seen_max_age = True
                    out.raw_max_age = parameter[8:128]
                    out.max_age = js_parse_int(out.raw_max_age)
                elif parameter == "includesubdomains":
                    out.include_subdomains = True
                elif parameter == "preload":
                    out.preload = True
            if not seen_max_age:
                out.result, out.reason = "hsts-header-invalid", "the header has no max-age"
            elif out.max_age is not None and out.max_age < SIX_MONTHS:
                out.result = "hsts-implemented-max-age-less-than-six-months"
                out.reason = f"max-age={out.raw_max_age} is shorter than six months ({SIX_MONTHS} s)"
            else:
                out.result = "hsts-implemented-max-age-at-least-six-months"
                out.reason = f"max-age={out.raw_max_age}"
    if https_available and is_preloaded(host, preloaded):
        out.result, out.reason = "hsts-preloaded", f"{host} is on the HSTS preload list"
    out.passed = out.result in ("hsts-implemented-max-age-at-least-six-months", "hsts-preloaded")
    return out
