"""``promote --rebuild`` while a rollback pins production: the production build turns READY but
STAGED (Vercel no longer moves the domains by itself), so the rebuild must be promoted, not
reported as a build that "failed: READY"."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aikinklab_ops.cli import main
from aikinklab_ops.sandbox import Sandbox

OPS_YML = "deploy:\n  poll_intervals_s: [0.02]\n  timeout_s: 20\nvercel:\n  backoff_s: [0.02]\n"


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "state", build_delay=0.02, queue_delay=0.01) as sandbox:
        yield sandbox


def ops(sb: Sandbox, work: Path, *args: str) -> tuple[int, Any, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--format", "json", *args], env=sb.env(), stdout=out, stderr=err, cwd=work)
    return code, json.loads(out.getvalue()) if out.getvalue().strip() else None, err.getvalue()


def release(sb: Sandbox, work: Path, text: str, *args: str) -> str:
    (work / "web" / "index.html").write_text(text)
    code, report, err = ops(sb, work, "deploy", "--path", "web", *args)
    assert code == 0, err
    return str(report["checks"][0]["details"]["deployment_id"])


def test_rebuild_of_a_preview_while_rolled_back_is_promoted(sb: Sandbox, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "web").mkdir(parents=True)
    (work / "ops.yml").write_text(OPS_YML)
    good = release(sb, work, "<h1>one</h1>", "--env", "production")
    release(sb, work, "<h1>two</h1>", "--env", "production")
    code, _, err = ops(sb, work, "rollback", "--to", good)
    assert code == 0, err
    preview = release(sb, work, "<h1>three</h1>")

    code, report, err = ops(sb, work, "promote", preview, "--rebuild")
    assert code == 0, err
    check = report["checks"][0]
    assert check["details"]["outcome"] == "rebuilt", check["summary"]
    new_id = check["details"]["new_deployment_id"]
    assert new_id and new_id != preview
    assert sb.alias_target("www.aikinklab.com") == new_id, "the rebuilt deployment serves production"
