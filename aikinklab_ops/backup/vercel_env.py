"""The names and targets of the Vercel project's environment variables — never their values.

A restore into a new Vercel project needs to know which variables to set for which environment;
the values belong in a secret store, not in a backup. The request never asks Vercel to decrypt,
and only ``key``, ``target``, ``type`` and ``gitBranch`` are kept from each entry, so a value the
API returns anyway is dropped before anything is written.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote

import requests

from aikinklab_ops.config.context import Credentials
from aikinklab_ops.errors import ApiError
from aikinklab_ops.http import make_session, transport_error

_KEEP = ("key", "target", "type", "gitBranch")


def fetch_env_names(creds: Credentials, *, session: requests.Session | None = None) -> list[dict[str, Any]] | None:
    """None when there are no Vercel credentials (nothing to ask); raises ApiError when Vercel refuses."""
    if not (creds.vercel_token and creds.vercel_project_id):
        return None
    session = session or make_session()
    url = f"{creds.vercel_api_url}/v10/projects/{quote(creds.vercel_project_id, safe='')}/env"
    # VERCEL_ORG_ID is a team id (team_…) or, for a personal account, the user's id: only a team
    # goes in teamId.
    org = creds.vercel_org_id or ""
    params = {"teamId": org} if org.startswith("team_") else {}
    try:
        resp = session.get(url, params=params, headers={"Authorization": f"Bearer {creds.vercel_token}"})
    except requests.RequestException as err:
        raise transport_error(err, url, "Vercel") from err
    if resp.status_code != 200:
        code = None
        with contextlib.suppress(ValueError):
            body = resp.json()
            error = body.get("error") if isinstance(body, dict) else None
            found = error.get("code") if isinstance(error, dict) else None
            code = found if isinstance(found, str) else None
        raise ApiError(
            f"Vercel: listing the project's environment variables answered HTTP {resp.status_code}",
            service="vercel",
            status=resp.status_code,
            code=code,
            hint="check VERCEL_TOKEN, VERCEL_PROJECT_ID and VERCEL_ORG_ID (the token needs read access to the project)",
        )
    try:
        body = resp.json()
    except ValueError as err:
        raise ApiError("Vercel: the environment variable list is not JSON", service="vercel", status=200) from err
    envs = body.get("envs") if isinstance(body, dict) and "envs" in body else [body] if isinstance(body, dict) else []
    out = []
    for item in envs if isinstance(envs, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            row = {k: item[k] for k in _KEEP if k in item}
            if isinstance(row.get("target"), str):
                row["target"] = [row["target"]]
            out.append(row)
    return sorted(out, key=lambda r: (r["key"], ",".join(r.get("target") or [])))
