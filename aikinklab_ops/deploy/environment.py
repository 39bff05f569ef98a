"""Which environment a run deploys to: from ``--env``, else the GitHub event, else a safe default.

* ``--env NAME`` wins;
* a ``push`` to a branch deploys to the environment whose ``branch`` it is (``main`` -> production,
  ``develop`` -> staging with the AIKinkLab defaults);
* a ``pull_request`` / ``pull_request_target`` deploys a preview;
* anything else (no event, a tag, a manual ``workflow_dispatch``, a push to another branch) deploys
  to ``deploy.default_environment`` (preview), which the schema forbids to be production: a run
  only reaches production from a push to its branch or from an explicit ``--env production``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aikinklab_ops.config import Config
from aikinklab_ops.errors import ConfigError, UsageError

PR_EVENTS = frozenset({"pull_request", "pull_request_target"})
_HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class EnvironmentTarget:
    name: str
    vercel_target: str = "preview"  # "production" or "preview"
    custom_environment: str | None = None
    aliases: tuple[str, ...] = ()
    branch: str | None = None
    url: str | None = None

    @property
    def is_production(self) -> bool:
        return self.vercel_target == "production"


@dataclass(frozen=True)
class Resolved:
    environment: EnvironmentTarget
    reason: str


def environments_from_config(cfg: Config) -> dict[str, EnvironmentTarget]:
    out: dict[str, EnvironmentTarget] = {}
    for name, raw in cfg.section("environments").items():
        sec: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        aliases = tuple(str(a).strip().lower() for a in sec.get("aliases") or ())
        for i, alias in enumerate(aliases):
            if not _HOST.match(alias):
                raise ConfigError(
                    f"{cfg.source}: environments.{name}.aliases[{i}]: {alias!r} is not a domain name",
                    hint="write a bare host name such as staging.aikinklab.com (no scheme, no path)",
                )
        out[name] = EnvironmentTarget(
            name=name,
            vercel_target=str(sec.get("vercel_target") or "preview"),
            custom_environment=sec.get("custom_environment") or None,
            aliases=aliases,
            branch=sec.get("branch") or None,
            url=sec.get("url") or None,
        )
    return out


def _pick(envs: Mapping[str, EnvironmentTarget], name: str, why: str) -> EnvironmentTarget:
    if name not in envs:
        raise UsageError(
            f"unknown environment {name!r} ({why})",
            hint="choose one of " + ", ".join(sorted(envs)) + " or add it under environments: in ops.yml",
        )
    return envs[name]


def resolve_environment(
    envs: Mapping[str, EnvironmentTarget],
    *,
    override: str | None = None,
    event_name: str | None = None,
    ref: str | None = None,
    head_ref: str | None = None,
    default: str = "preview",
) -> Resolved:
    if override:
        return Resolved(_pick(envs, override, "--env"), f"--env {override}")
    if event_name in PR_EVENTS:
        return Resolved(_pick(envs, "preview", "pull requests deploy previews"), f"{event_name} from {head_ref or '?'}")
    if event_name == "push" and ref and ref.startswith("refs/heads/"):
        branch = ref[len("refs/heads/") :]
        # Production first, so a misconfigured duplicate branch can never hide it behind another name.
        ordered = sorted(envs.values(), key=lambda e: (not e.is_production, e.name))
        for env in ordered:
            if env.branch and env.branch == branch:
                return Resolved(env, f"push to {branch}")
        return Resolved(_default(envs, default), f"push to {branch} (no environment's branch): default environment")
    what = f"event {event_name}" if event_name else "no GitHub event"
    return Resolved(_default(envs, default), f"{what}: default environment")


def _default(envs: Mapping[str, EnvironmentTarget], default: str) -> EnvironmentTarget:
    env = _pick(envs, default, "deploy.default_environment")
    if env.is_production:
        raise ConfigError(
            f"deploy.default_environment: {default!r} is a production environment",
            hint="set deploy.default_environment: preview; production is reached only by a push to its branch "
            "or by --env production",
        )
    return env
