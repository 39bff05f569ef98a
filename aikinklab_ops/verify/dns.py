"""DNS: does the host resolve, and (when asked) does it point at Vercel?

The resolver is a plain function so a test can hand in a fake one instead of touching real DNS;
the system one runs in its own thread because ``getaddrinfo`` takes no timeout.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aikinklab_ops.report import CheckResult, Status
from aikinklab_ops.verify.settings import DnsSettings
from aikinklab_ops.verify.urls import is_ip

NAME = "dns"


class ResolveError(Exception):
    """The name did not resolve; the message says why."""


@dataclass(frozen=True)
class DnsAnswer:
    addresses: tuple[str, ...]
    canonical: str | None = None  # where the CNAME chain ends
    aliases: tuple[str, ...] = ()  # the names the chain went through


Resolver = Callable[[str], DnsAnswer]


def system_resolver(host: str) -> DnsAnswer:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as err:
        raise ResolveError(f"{host} does not resolve: {err.strerror or err}") from err
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    canonical: str | None = None
    aliases: tuple[str, ...] = ()
    try:
        canonical, alias_list, _ = socket.gethostbyname_ex(host)
        aliases = tuple(alias_list)
    except OSError:
        pass  # an IPv6-only name has no IPv4 answer to read the CNAME chain from
    return DnsAnswer(addresses, canonical, aliases)


def resolve_with_timeout(resolver: Resolver, host: str, timeout: float) -> DnsAnswer:
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["answer"] = resolver(host)
        except BaseException as err:  # handed to the caller's thread below
            box["error"] = err

    thread = threading.Thread(target=work, name="dns", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ResolveError(f"resolving {host} took longer than {timeout:g}s")
    if "error" in box:
        err = box["error"]
        if isinstance(err, ResolveError):
            raise err
        if isinstance(err, OSError):
            raise ResolveError(f"{host} does not resolve: {err}") from err
        raise err
    answer: DnsAnswer = box["answer"]
    return answer


def judge_dns(host: str, answer: DnsAnswer, settings: DnsSettings) -> CheckResult:
    names = [n.rstrip(".").lower() for n in (answer.canonical, *answer.aliases) if n]
    details: dict[str, Any] = {"host": host, "addresses": list(answer.addresses)}
    if answer.canonical and answer.canonical.rstrip(".").lower() != host.lower():
        details["cname"] = answer.canonical
    if answer.aliases:
        details["aliases"] = list(answer.aliases)
    if not answer.addresses:
        return CheckResult(NAME, Status.FAIL, f"{host} resolves to no address", details)
    listed = ", ".join(answer.addresses[:4]) + (" …" if len(answer.addresses) > 4 else "")
    if not settings.expect_vercel:
        return CheckResult(NAME, Status.PASS, f"{host} resolves to {listed}", details)
    vercel_ips = set(settings.vercel_addresses)
    vercel_names = {c.rstrip(".").lower() for c in settings.vercel_cnames}
    by_ip = [a for a in answer.addresses if a in vercel_ips]
    by_name = [n for n in names if n in vercel_names]
    details["expected"] = {"addresses": sorted(vercel_ips), "cnames": sorted(vercel_names)}
    if by_name:
        summary = f"{host} is a CNAME of {by_name[0]} (Vercel), resolving to {listed}"
        return CheckResult(NAME, Status.PASS, summary, details)
    if by_ip:
        return CheckResult(NAME, Status.PASS, f"{host} points at Vercel ({by_ip[0]})", details)
    return CheckResult(
        NAME,
        Status.FAIL,
        f"{host} resolves to {listed}, not to Vercel (A {', '.join(sorted(vercel_ips))} "
        f"or CNAME {', '.join(sorted(vercel_names))})",
        details,
    )


def check_dns(url: str, settings: DnsSettings, *, resolver: Resolver = system_resolver, timeout: float) -> CheckResult:
    host = urlsplit(url).hostname or ""
    if is_ip(host):
        details = {"host": host, "addresses": [host]}
        if settings.expect_vercel:
            return judge_dns(host, DnsAnswer((host,)), settings)
        return CheckResult(NAME, Status.PASS, f"{host} is an IP address; nothing to resolve", details)
    try:
        answer = resolve_with_timeout(resolver, host, timeout)
    except ResolveError as err:
        return CheckResult(NAME, Status.FAIL, str(err), {"host": host})
    return judge_dns(host, answer, settings)
