"""An empty file is uploaded like any other (``.nojekyll``, ``.gitkeep``, ``__init__.py`` are common)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from aikinklab_ops.http import make_session
from aikinklab_ops.sandbox import Sandbox
from aikinklab_ops.vercel import VercelClient

EMPTY_SHA = hashlib.sha1(b"").hexdigest()


def test_an_empty_file_is_sent_with_a_length_not_chunked(tmp_path: Path) -> None:
    f = tmp_path / ".nojekyll"
    f.write_bytes(b"")
    with Sandbox(tmp_path / "state", build_delay=0.01) as sb:
        env = sb.env()
        # Short timeouts and one attempt: a request the server cannot frame fails in about a second.
        client = VercelClient(
            make_session(timeout=(1.0, 1.0), retries=0),
            env["VERCEL_TOKEN"],
            env["VERCEL_API_URL"],
            team_id=env["VERCEL_ORG_ID"],
            project_id=env["VERCEL_PROJECT_ID"],
            upload_attempts=1,
        )
        client.upload_file(f, EMPTY_SHA, 0)
        upload = [x for x in sb.traffic if x.path == "/v2/files"][-1]
    assert upload.status == 200
    headers = {k.lower(): v for k, v in upload.headers.items()}
    assert "transfer-encoding" not in headers, "Content-Length and Transfer-Encoding together cannot be framed"
    assert headers.get("content-length") == "0"
