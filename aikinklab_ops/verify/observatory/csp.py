"""The Observatory's Content-Security-Policy test, rule for rule.

Its quirks are kept on purpose, because the grade must equal the Observatory's: a directive
repeated inside one policy makes the header invalid (browsers would use the first), only
``script-src`` / ``style-src`` / ``object-src`` (falling back to ``default-src``) are judged, and
the source sets are shared between a directive and its fallback, so trimming ``script-src`` for
``'strict-dynamic'`` trims a ``default-src`` it fell back to as well. What those rules miss is
reported by ``extras``, not scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aikinklab_ops.verify.observatory.page import Body, Headers

DANGEROUSLY_BROAD = ("ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*")
UNSAFE_INLINE = ("'unsafe-inline'", "data:")
PASSIVE_DIRECTIVES = ("img-src", "media-src")
NONCES_HASHES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")

Policy = dict[str, set[str]]


class CspParseError(ValueError):
    pass


@dataclass
class CspAnalysis:
    result: str
    http: bool = False
    meta: bool = False
    # The combined policy the verdict was made from (None when there was none or it did not parse).
    data: Policy | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    reason: str = ""


def split_policies(value: str) -> list[str]:
    """A header value is a comma-separated list of policies (what a repeated header becomes)."""
    return [p for p in value.split(",") if p.strip()]


def parse_policy(text: str) -> Policy:
    policy: Policy = {}
    for chunk in text.split(";"):
        tokens = chunk.split()
        if not tokens:
            continue
        name = tokens[0].lower()
        if name in policy:
            raise CspParseError(f"directive {name} appears twice in one policy")
        # Source paths are case-sensitive, but no rule here looks at a path.
        policy[name] = {t.lower() for t in tokens[1:]} or {"'none'"}
    return policy


def combine(policies: list[Policy]) -> Policy:
    """Policies are enforced together: a directive allows only what every policy naming it allows."""
    combined: Policy = {}
    for policy in policies:
        for name, sources in policy.items():
            if name in combined:
                combined[name] = (combined[name] & sources) or {"'none'"}
            else:
                combined[name] = set(sources)
    return combined


def _broad(sources: set[str]) -> bool:
    return bool(sources.intersection(DANGEROUSLY_BROAD))


def _has_nonce_or_hash(sources: set[str]) -> bool:
    return any(s.startswith(NONCES_HASHES) for s in sources)


def analyze_csp(headers: Headers, body: Body, url: str) -> CspAnalysis:
    header = headers.get("content-security-policy")
    header_policies = split_policies(header) if header else []
    meta_policies = [p for p in body.meta_csp if p.strip()]
    out = CspAnalysis(result="csp-not-implemented", http=bool(header_policies), meta=bool(meta_policies))
    if not header_policies and not meta_policies:
        if (headers.get("content-security-policy-report-only") or "").strip():
            out.result = "csp-not-implemented-but-reporting-enabled"
            out.reason = "only Content-Security-Policy-Report-Only is sent: violations are reported, nothing is blocked"
        else:
            out.reason = "no Content-Security-Policy header or <meta> policy"
        return out
    try:
        csp = combine([parse_policy(p) for p in header_policies + meta_policies])
    except CspParseError as err:
        out.result = "csp-header-invalid"
        out.reason = f"the policy cannot be parsed: {err}"
        return out

    result: str | None = None
    reason = ""

    def verdict(name: str, why: str) -> None:
        nonlocal result, reason
        if result is None:
            result, reason = name, why

    flags = dict.fromkeys(
        (
            "antiClickjacking",
            "defaultNone",
            "insecureBaseUri",
            "insecureFormAction",
            "insecureSchemeActive",
            "insecureSchemePassive",
            "strictDynamic",
            "unsafeEval",
            "unsafeInline",
            "unsafeInlineStyle",
            "unsafeObjects",
        ),
        False,
    )
    base_uri = csp.get("base-uri") or {"*"}
    frame_ancestors = csp.get("frame-ancestors") or {"*"}
    form_action = csp.get("form-action") or {"*"}
    object_src = csp.get("object-src") or csp.get("default-src") or {"*"}
    script_src = csp.get("script-src") or csp.get("default-src") or {"*"}
    style_src = csp.get("style-src") or csp.get("default-src") or {"*"}

    # A nonce or hash makes browsers ignore 'unsafe-inline' (CSP2).
    for sources in (script_src, style_src):
        if _has_nonce_or_hash(sources):
            sources.discard("'unsafe-inline'")

    if _has_nonce_or_hash(script_src) and "'strict-dynamic'" in script_src:
        # Browsers ignore host and scheme sources, 'self' and 'unsafe-inline' next to 'strict-dynamic'.
        for source in list(script_src):
            if source.startswith(DANGEROUSLY_BROAD) or source in ("'self'", "'unsafe-inline'"):
                script_src.discard(source)
        flags["strictDynamic"] = True
    elif "'strict-dynamic'" in script_src:
        verdict("csp-header-invalid", "'strict-dynamic' in script-src without a nonce or hash allows no script at all")

    active = [s for name, srcs in csp.items() if name not in PASSIVE_DIRECTIVES and name != "script-src" for s in srcs]
    active += list(script_src)
    passive = [s for d in PASSIVE_DIRECTIVES for s in csp.get(d, csp.get("default-src", set()))]
    https = urlsplit(url).scheme.lower() == "https"

    if script_src.intersection(DANGEROUSLY_BROAD + UNSAFE_INLINE) or _broad(object_src):
        broad_script = sorted(script_src.intersection(DANGEROUSLY_BROAD + UNSAFE_INLINE))
        broad_object = sorted(object_src.intersection(DANGEROUSLY_BROAD))
        why = (
            f"script-src (or its default-src fallback) allows {', '.join(broad_script)}"
            if broad_script
            else f"object-src (or its default-src fallback) allows {', '.join(broad_object)}"
        )
        verdict("csp-implemented-with-unsafe-inline", why)
        flags["unsafeInline"] = True

    insecure_active = [s for s in active if "http:" in s or "ftp:" in s]
    if https and insecure_active and not flags["strictDynamic"]:
        why = f"an HTTPS page allows scripts or frames over {insecure_active[0]}"
        verdict("csp-implemented-with-insecure-scheme", why)
        flags["insecureSchemeActive"] = True

    if "'unsafe-eval'" in script_src | style_src:
        verdict("csp-implemented-with-unsafe-eval", "script-src or style-src allows 'unsafe-eval'")
        flags["unsafeEval"] = True

    insecure_passive = [s for s in passive if "http:" in s or "ftp:" in s]
    if https and insecure_passive:
        verdict(
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            f"an HTTPS page allows images or media over {insecure_passive[0]}",
        )
        flags["insecureSchemePassive"] = True

    if style_src.intersection(DANGEROUSLY_BROAD + UNSAFE_INLINE):
        allowed = ", ".join(sorted(style_src.intersection(DANGEROUSLY_BROAD + UNSAFE_INLINE)))
        verdict("csp-implemented-with-unsafe-inline-in-style-src-only", f"only style-src is lax: it allows {allowed}")
        flags["unsafeInlineStyle"] = True

    if csp.get("default-src") == {"'none'"}:
        verdict("csp-implemented-with-no-unsafe-default-src-none", "default-src 'none' and nothing unsafe")
        flags["defaultNone"] = True
    else:
        verdict("csp-implemented-with-no-unsafe", "no 'unsafe-inline', 'unsafe-eval' or overly broad source")

    flags["antiClickjacking"] = not _broad(frame_ancestors)
    flags["insecureBaseUri"] = bool(base_uri.intersection(DANGEROUSLY_BROAD + UNSAFE_INLINE))
    flags["insecureFormAction"] = _broad(form_action)
    flags["unsafeObjects"] = _broad(object_src)

    out.result, out.reason, out.data, out.flags = result or out.result, reason, csp, flags
    return out
