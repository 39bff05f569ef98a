"""The ``verify`` config section as frozen settings, with the SLA fallbacks already applied.

Built once from the validated config, so the checks never look up a key that might be missing or
guess a default of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aikinklab_ops.config import Config
from aikinklab_ops.errors import UsageError
from aikinklab_ops.secrets import redact_url

_TLS_KEYS = ("warn_days", "min_days", "min_version", "min_rsa_bits", "min_ec_bits")
CHECK_NAMES = ("health", "pages", "security-headers", "tls", "dns", "latency", "error-rate", "web-vitals")


@dataclass(frozen=True)
class HealthSettings:
    path: str = "/api/health"
    status_field: str = "status"
    healthy_values: tuple[str, ...] = ("ok", "healthy", "up", "pass")
    degraded_values: tuple[str, ...] = ("degraded", "warn")
    degraded_is: str = "warn"
    deadline_s: float = 60.0
    retry_interval_s: float = 1.0


@dataclass(frozen=True)
class PageSpec:
    path: str
    name: str
    expect_status: int = 200
    contains: str | None = None
    max_ms: float | None = None

    @property
    def follows_redirects(self) -> bool:
        """Expecting a 3xx means the redirect itself is under test, so it is not followed."""
        return not 300 <= self.expect_status < 400


@dataclass(frozen=True)
class TlsSettings:
    warn_days: int = 30
    min_days: int = 14
    min_version: str = "TLSv1.2"
    min_rsa_bits: int = 2048
    min_ec_bits: int = 256


@dataclass(frozen=True)
class DnsSettings:
    expect_vercel: bool = False
    vercel_addresses: tuple[str, ...] = ("76.76.21.21",)
    vercel_cnames: tuple[str, ...] = ("cname.vercel-dns.com",)


@dataclass(frozen=True)
class LatencySettings:
    samples: int = 20
    concurrency: int = 5
    p95_ms: float = 2000.0
    max_error_percent: float = 0.1


@dataclass(frozen=True)
class VerifySettings:
    timeout_s: float = 10.0
    checks: tuple[str, ...] = CHECK_NAMES[:-1]
    concurrency: int = 8
    health: HealthSettings = field(default_factory=HealthSettings)
    pages: tuple[PageSpec, ...] = (PageSpec("/", "home"),)
    max_redirects: int = 5
    security_headers: Mapping[str, Any] = field(default_factory=dict)
    tls: TlsSettings = field(default_factory=TlsSettings)
    dns: DnsSettings = field(default_factory=DnsSettings)
    latency: LatencySettings = field(default_factory=LatencySettings)

    @classmethod
    def from_config(cls, cfg: Config) -> VerifySettings:
        v = cfg.section("verify")
        sla = cfg.section("sla")
        h = dict(v.get("health") or {})
        t = dict(v.get("tls") or {})
        d = dict(v.get("dns") or {})
        lat = dict(v.get("latency") or {})
        err = dict(v.get("error_rate") or {})
        base = HealthSettings()
        health = HealthSettings(
            path=h.get("path", base.path),
            status_field=h.get("status_field", base.status_field),
            healthy_values=tuple(h.get("healthy_values", base.healthy_values)),
            degraded_values=tuple(h.get("degraded_values", base.degraded_values)),
            degraded_is=h.get("degraded_is", base.degraded_is),
            deadline_s=float(h.get("deadline_s", base.deadline_s)),
            retry_interval_s=float(h.get("retry_interval_s", base.retry_interval_s)),
        )
        pages = tuple(
            PageSpec(
                path=p["path"],
                name=p.get("name") or p["path"],
                expect_status=int(p.get("expect_status", 200)),
                contains=p.get("contains"),
                max_ms=p.get("max_ms"),
            )
            for p in v.get("pages") or ()
        )
        p95 = lat.get("p95_ms")
        max_err = err.get("max_percent")
        return cls(
            timeout_s=float(v.get("timeout_s", 10)),
            checks=tuple(v.get("checks") or CHECK_NAMES[:-1]),
            concurrency=int(v.get("concurrency", 8)),
            health=health,
            pages=pages,
            max_redirects=int(v.get("max_redirects", 5)),
            security_headers=dict(v.get("security_headers") or {}),
            tls=TlsSettings(**{k: t[k] for k in _TLS_KEYS if k in t}),
            dns=DnsSettings(
                expect_vercel=bool(d.get("expect_vercel", False)),
                vercel_addresses=tuple(d.get("vercel_addresses", DnsSettings.vercel_addresses)),
                vercel_cnames=tuple(d.get("vercel_cnames", DnsSettings.vercel_cnames)),
            ),
            latency=LatencySettings(
                samples=int(lat.get("samples", 20)),
                concurrency=int(lat.get("concurrency", 5)),
                p95_ms=float(p95 if p95 is not None else sla.get("p95_ms", 2000)),
                max_error_percent=float(max_err if max_err is not None else sla.get("error_rate_percent", 0.1)),
            ),
        )


def parse_only(value: str | None) -> tuple[str, ...] | None:
    """``--only health,tls`` as check names, refusing a name that is not a check."""
    if value is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    if not names:
        raise UsageError("--only: no check named", hint=f"give one or more of: {', '.join(CHECK_NAMES)}")
    return validate_checks(names, where="--only")


def validate_checks(names: tuple[str, ...], *, where: str) -> tuple[str, ...]:
    unknown = [n for n in names if n not in CHECK_NAMES]
    if unknown:
        raise UsageError(
            f"{where}: unknown check {', '.join(repr(n) for n in unknown)}",
            hint=f"valid checks: {', '.join(CHECK_NAMES)}",
        )
    return names


def target_url(cfg: Config, *, url: str | None, env: str) -> str:
    """The URL to verify: ``--url``, else ``environments.<env>.url``."""
    if url is None:
        envs = cfg.section("environments")
        if env not in envs:
            raise UsageError(
                f"--env: no environment {env!r} in {cfg.source}", hint=f"known environments: {', '.join(sorted(envs))}"
            )
        url = (envs[env] or {}).get("url")
        if not url:
            raise UsageError(
                f"{cfg.source}: environments.{env}.url is not set, so there is nothing to verify",
                hint=f"pass --url https://…, or set environments.{env}.url in ops.yml",
            )
    return normalize_url(url)


def normalize_url(url: str) -> str:
    shown = redact_url(url)  # the URL may carry a token; a message must not
    try:
        parts = urlsplit(url.strip())
    except ValueError as err:  # e.g. an unclosed IPv6 bracket
        raise UsageError(
            f"--url: {shown!r} is not a valid URL: {err}", hint="e.g. --url https://www.aikinklab.com"
        ) from err
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--url: {shown!r} is not an http:// or https:// URL", hint="e.g. --url https://www.aikinklab.com"
        )
    try:
        parts.port  # noqa: B018 — raises ValueError on a malformed port
    except ValueError as err:
        raise UsageError(f"--url: {shown!r} has an invalid port", hint="e.g. https://127.0.0.1:8443") from err
    try:
        parts.hostname.encode("idna")  # an empty label (a..b) or one over 63 characters
    except UnicodeError as err:
        raise UsageError(
            f"--url: {shown!r} has an invalid host name", hint="each dot-separated part is 1 to 63 characters"
        ) from err
    return url.strip().rstrip("/")
