"""Recorded Vercel answers (tests/data/vercel): they fit the contract, and the client reads them right."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from vercel_contract import check_mock_response
from vercel_fake_api import PROJECT, FakeVercel, listing

from aikinklab_ops.deploy.promote import choose_rollback_target
from aikinklab_ops.deploy.wait import build_log_tail
from aikinklab_ops.vercel import VercelClient

DATA = Path(__file__).resolve().parents[1] / "data" / "vercel"
RECORDED = sorted(DATA.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / name).read_text(encoding="utf-8")))


def test_there_are_recordings() -> None:
    assert len(RECORDED) >= 4


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_recordings_fit_the_contract(path: Path) -> None:
    rec = json.loads(path.read_text(encoding="utf-8"))
    req = rec["request"]
    problems = check_mock_response(req["method"], "https://api.vercel.com" + req["path"], rec["status"], rec["body"])
    assert problems == []


def test_build_log_tail_of_a_failed_next_build(fake: FakeVercel, client: VercelClient) -> None:
    rec = load("events_build_failed.json")
    fake.add("GET", rec["request"]["path"], json_body=rec["body"])
    tail = build_log_tail(client, "dpl_7Yx3kQp2LmN8vR4tW6zA1bC5dE9f", 4)
    assert tail == (
        "   ▲ Next.js 14.2.3",
        "   Creating an optimized production build ...",
        "Type error: Property 'title' does not exist on type 'Props'.",
        'Error: Command "npm run build" exited with 1',
    ), "the last lines of stdout/stderr/exit text, multi-line events split, state events left out"


def test_rollback_choice_skips_a_build_that_never_served(fake: FakeVercel, client: VercelClient) -> None:
    rec = load("list_production.json")
    fake.add("GET", "/v7/deployments", json_body=rec["body"])
    fake.add("GET", "/v7/deployments", json_body=listing([]))
    found = choose_rollback_target(client, PROJECT, "dpl_cur", current_created=1764740000000)
    assert found is not None and found["uid"] == "dpl_prev"
