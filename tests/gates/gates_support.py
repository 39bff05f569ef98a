"""Shared values for the gate tests (a module with a unique name, so it imports unambiguously)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

GATES_DATA = Path(__file__).resolve().parents[1] / "data" / "gates"
# Every allowlist and remove_by date in these tests is relative to this day.
TODAY = date(2026, 12, 3)

API = "https://api.github.com"
REPO = "aikinklab/aikinklab"
SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def check_run(
    ident: int, name: str, status: str = "completed", conclusion: str | None = "success", sha: str = SHA
) -> dict[str, Any]:
    """A check run as `GET /repos/{owner}/{repo}/commits/{ref}/check-runs` documents it."""
    return {
        "id": ident,
        "head_sha": sha,
        "node_id": f"MDg6Q2hlY2tSdW4{ident}",
        "external_id": "",
        "url": f"{API}/repos/{REPO}/check-runs/{ident}",
        "html_url": f"https://github.com/{REPO}/runs/{ident}",
        "details_url": f"https://github.com/{REPO}/actions/runs/1/job/{ident}",
        "status": status,
        "conclusion": conclusion if status == "completed" else None,
        "started_at": "2026-12-03T09:00:00Z",
        "completed_at": "2026-12-03T09:03:00Z" if status == "completed" else None,
        "output": {"title": None, "summary": None, "text": None, "annotations_count": 0, "annotations_url": ""},
        "name": name,
        "check_suite": {"id": 5},
        "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
        "pull_requests": [],
    }


def combined(state: str, statuses: list[tuple[str, str]], sha: str = SHA) -> dict[str, Any]:
    """`GET /repos/{owner}/{repo}/commits/{ref}/status` as documented."""
    return {
        "state": state,
        "statuses": [
            {
                "url": f"{API}/repos/{REPO}/statuses/{sha}",
                "avatar_url": "https://github.com/images/error/hubot_happy.gif",
                "id": 100 + i,
                "node_id": f"MDY6U3RhdHVz{i}",
                "state": st,
                "description": "Deployment has completed",
                "target_url": f"https://vercel.com/aikinklab/aikinklab/{i}",
                "context": ctx,
                "created_at": "2026-12-03T09:00:00Z",
                "updated_at": "2026-12-03T09:01:00Z",
            }
            for i, (ctx, st) in enumerate(statuses)
        ],
        "sha": sha,
        "total_count": len(statuses),
        "repository": {"id": 1296269, "full_name": REPO},
        "commit_url": f"{API}/repos/{REPO}/commits/{sha}",
        "url": f"{API}/repos/{REPO}/commits/{sha}/status",
    }
