"""What the run knows from its environment: credentials, API roots and the Actions runtime.

This and the config loader are the only library modules that look at environment variables; the
CLI passes ``os.environ`` in, tests pass a dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aikinklab_ops.secrets import looks_secret

VERCEL_API_DEFAULT = "https://api.vercel.com"
GITHUB_API_DEFAULT = "https://api.github.com"
GITHUB_SERVER_DEFAULT = "https://github.com"


@dataclass(frozen=True)
class Credentials:
    vercel_token: str | None = field(default=None, repr=False)
    vercel_org_id: str | None = None
    vercel_project_id: str | None = None
    github_token: str | None = field(default=None, repr=False)
    github_repository: str | None = None
    vercel_api_url: str = VERCEL_API_DEFAULT
    github_api_url: str = GITHUB_API_DEFAULT


@dataclass(frozen=True)
class RunContext:
    credentials: Credentials
    github_actions: bool = False
    github_output: str | None = None
    github_step_summary: str | None = None
    github_event_name: str | None = None
    github_ref: str | None = None
    github_head_ref: str | None = None
    github_sha: str | None = None
    github_run_id: str | None = None
    github_server_url: str = GITHUB_SERVER_DEFAULT
    github_event_path: str | None = None
    github_job: str | None = None
    # Values of every secret-looking variable, for redaction; never rendered.
    secret_values: tuple[str, ...] = field(default=(), repr=False)


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value else None


def load_context(env: Mapping[str, str]) -> RunContext:
    creds = Credentials(
        vercel_token=_get(env, "VERCEL_TOKEN"),
        vercel_org_id=_get(env, "VERCEL_ORG_ID"),
        vercel_project_id=_get(env, "VERCEL_PROJECT_ID"),
        github_token=_get(env, "GITHUB_TOKEN"),
        github_repository=_get(env, "GITHUB_REPOSITORY"),
        vercel_api_url=(_get(env, "VERCEL_API_URL") or VERCEL_API_DEFAULT).rstrip("/"),
        github_api_url=(_get(env, "GITHUB_API_URL") or GITHUB_API_DEFAULT).rstrip("/"),
    )
    secrets = tuple(v for k, v in env.items() if v and looks_secret(k))
    return RunContext(
        credentials=creds,
        github_actions=env.get("GITHUB_ACTIONS") == "true",
        github_output=_get(env, "GITHUB_OUTPUT"),
        github_step_summary=_get(env, "GITHUB_STEP_SUMMARY"),
        github_event_name=_get(env, "GITHUB_EVENT_NAME"),
        github_ref=_get(env, "GITHUB_REF"),
        github_head_ref=_get(env, "GITHUB_HEAD_REF"),
        github_sha=_get(env, "GITHUB_SHA"),
        github_run_id=_get(env, "GITHUB_RUN_ID"),
        github_server_url=(_get(env, "GITHUB_SERVER_URL") or GITHUB_SERVER_DEFAULT).rstrip("/"),
        github_event_path=_get(env, "GITHUB_EVENT_PATH"),
        github_job=_get(env, "GITHUB_JOB"),
        secret_values=secrets,
    )
