"""What an operator trying to break ``incident`` found: a webhook that never finishes its answer,
report targets that make no usable key, and a failed channel that left no annotation."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from incident_fakes import API, REPO, TOKEN, FakeGitHub

from aikinklab_ops.cli import main
from aikinklab_ops.incident import WebhookSettings
from aikinklab_ops.incident.channels import post_webhook
from aikinklab_ops.report import Status

TOKEN_PATH = "/hooks/T1/B2/tRiCkLeSeCrEt"


@pytest.fixture
def trickling_webhook() -> Iterator[str]:
    """Answers 200 at once, then sends its body one byte every 0.2 s: each read is quick, the whole is not."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 200\r\n\r\n")
                    for _ in range(200):
                        if stop.is_set():
                            break
                        conn.sendall(b"x")
                        time.sleep(0.2)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}{TOKEN_PATH}"
    finally:
        stop.set()
        thread.join(timeout=5)
        srv.close()


def test_incident_webhook_that_trickles_its_answer_does_not_hold_the_run(trickling_webhook: str) -> None:
    started = time.monotonic()
    out = post_webhook(WebhookSettings("chat", webhook_url=trickling_webhook, timeout_s=1), {"text": "x"})
    took = time.monotonic() - started
    assert took < 5, f"post_webhook took {took:.1f}s with timeout_s=1"
    assert out.status is Status.PASS
    assert "tRiCkLeSeCrEt" not in out.summary + json.dumps(dict(out.details))


def run(argv: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env or {}, stdout=out, stderr=err, cwd=tmp_path)
    return code, out.getvalue(), err.getvalue()


def _report(tmp_path: Path, target: str) -> None:
    check = {"name": "health", "status": "fail", "summary": "HTTP 503", "details": {}, "duration_s": 0.1}
    (tmp_path / "verify.json").write_text(json.dumps({"kind": "verify", "target": target, "checks": [check]}))


@pytest.mark.parametrize(
    "target", ["http://[::1]:3000/", "https://bücher.example/", "https://user:pw@www.aikinklab.com/", "staging site"]
)
def test_incident_key_derived_from_any_report_target_is_usable(tmp_path: Path, target: str) -> None:
    _report(tmp_path, target)
    code, out, err = run(["--format", "json", "incident", "open", "--from-report", "verify.json"], tmp_path)
    assert code == 0, err
    key = json.loads(out)["incident"]["key"]
    assert key.startswith("verify-")
    assert (tmp_path / ".aikinklab-ops" / "incidents" / f"{key}.md").is_file()
    assert "pw" not in key


def test_incident_failed_channel_is_annotated_under_github_format(tmp_path: Path) -> None:
    # A webhook nobody listens on: the configured, routed chat channel fails.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "ops.yml").write_text(
        "alerts:\n  routes: {high: [chat], medium: [chat], low: [dashboard]}\n"
        "  channels:\n    chat: {webhook_url: '${CHAT_WEBHOOK_URL}', timeout_s: 2}\n"
    )
    env = {"CHAT_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook/cHaTsEcReT", "GITHUB_ACTIONS": "true"}
    code, out, err = run(["incident", "open", "--key", "k1", "--severity", "P1", "--title", "Down"], tmp_path, env)
    assert code == 1, err
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert errors and "chat" in errors[0], out
    assert "cHaTsEcReT" not in "\n".join(line for line in out.splitlines() if not line.startswith("::add-mask::"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("\ufeff{}".encode("utf-16"), "not UTF-8"),
        (b"\x7fELF\x02\x01\x01\x00\xff\xfe", "not UTF-8"),
        (
            json.dumps(
                {
                    "kind": "verify",
                    "checks": [{"name": "health", "status": "fail", "summary": "x", "duration_s": "slow"}],
                }
            ).encode(),
            "checks[0].duration_s",
        ),
        (
            json.dumps(
                {"kind": "verify", "checks": [{"name": "health", "status": "fail", "summary": "x", "duration_s": [1]}]}
            ).encode(),
            "checks[0].duration_s",
        ),
    ],
)
def test_incident_unreadable_report_is_exit_2_naming_the_problem(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "verify.json").write_bytes(content)
    code, _, err = run(["incident", "open", "--from-report", "verify.json"], tmp_path)
    assert code == 2, err
    assert "Traceback" not in err
    assert "verify.json" in err and expected in err


def test_incident_github_failing_during_resolve_is_exit_3(tmp_path: Path, fake_github: FakeGitHub) -> None:
    # docs/incidents.md: "3 GitHub failed during update/resolve".
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": API}
    code, _, err = run(["incident", "open", "--key", "k", "--severity", "P3", "--title", "Typo"], tmp_path, env)
    assert code == 0, err
    fake_github.fail_next[("PATCH", "issue")] = [502]
    code, out, err = run(["incident", "update", "--key", "k", "--status", "Fixing"], tmp_path, env)
    assert code == 3, out + err
    assert "502" in out
    fake_github.fail_next[("PATCH", "issue")] = [502]
    code, out, err = run(
        ["incident", "resolve", "--key", "k", "--resolution", "r", "--root-cause", "c", "--prevention", "p"],
        tmp_path,
        env,
    )
    assert code == 3, out + err
    assert fake_github.issues[1]["state"] == "open"


def test_incident_smtp_server_that_never_speaks_is_reported_as_a_timeout() -> None:
    from aikinklab_ops.incident import EmailSettings, Message
    from aikinklab_ops.incident.channels import send_email

    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)  # accepts (in the kernel) and never sends the 220 greeting
        settings = EmailSettings(
            smtp_host="127.0.0.1", smtp_port=srv.getsockname()[1], starttls=False, recipients=("a@b.cd",), timeout_s=0.5
        )
        out = send_email(settings, Message("subject", "text"))
    assert out.status is Status.FAIL
    assert "did not answer within 0.5 s" in out.summary, out.summary
    assert "closed the connection" not in out.summary


def test_incident_issue_title_fits_githubs_256_character_limit(tmp_path: Path, fake_github: FakeGitHub) -> None:
    # GitHub answers 422 "title is too long (maximum is 256 characters)"; a long report summary must not
    # keep the incident off GitHub.
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": API}
    long_title = "Checkout fails: " + "x" * 400
    code, _, err = run(["incident", "open", "--key", "k", "--severity", "P2", "--title", long_title], tmp_path, env)
    assert code == 0, err
    title = fake_github.issues[1]["title"]
    assert len(title) <= 256 and title.startswith("[P2] Checkout fails: xxx")
    code, _, err = run(["incident", "open", "--key", "k", "--severity", "P0", "--title", long_title], tmp_path, env)
    assert code == 0, err
    assert len(fake_github.issues[1]["title"]) <= 256 and fake_github.issues[1]["title"].startswith("[P0] ")


@pytest.mark.parametrize("value", ["-100", "0", "nan", "inf"])
def test_incident_baseline_must_be_a_positive_number(tmp_path: Path, value: str) -> None:
    _report(tmp_path, "https://www.aikinklab.com")
    code, _, err = run(["incident", "open", "--from-report", "verify.json", f"--baseline-p95-ms={value}"], tmp_path)
    assert code == 2, err
    assert "--baseline-p95-ms" in err
    assert not (tmp_path / ".aikinklab-ops").exists()


def test_incident_relabel_keeps_labels_people_added(tmp_path: Path, fake_github: FakeGitHub) -> None:
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": API}
    code, _, err = run(["incident", "open", "--key", "k", "--severity", "P2", "--title", "Slow"], tmp_path, env)
    assert code == 0, err
    fake_github.issues[1]["labels"].append("customer-facing")  # added by the on-call on GitHub
    code, _, err = run(["incident", "update", "--key", "k", "--status", "Worse", "--severity", "P0"], tmp_path, env)
    assert code == 0, err
    assert sorted(fake_github.issues[1]["labels"]) == ["P0", "customer-facing", "incident"]


def test_incident_state_survives_githubs_crlf_line_endings(tmp_path: Path, fake_github: FakeGitHub) -> None:
    # An issue body edited in GitHub's web editor comes back with \r\n line endings.
    from datetime import datetime, timedelta, timezone

    from aikinklab_ops.github.issues import IssueTracker
    from aikinklab_ops.incident import IncidentSettings, Severity, open_incident
    from aikinklab_ops.incident.store import IncidentState, compose_body

    opened = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    state = IncidentState(
        key="k",
        title="Checkout 500s",
        severity=Severity.P1,
        opened_at=opened,
        last_alert_at=opened + timedelta(hours=1),
    )
    body = compose_body(state, "🚨 INCIDENT ALERT - P1\n\nedited by hand").replace("\n", "\r\n")
    fake_github.add_issue("[P1] Checkout 500s", body, ["incident", "P1"])
    tracker = IssueTracker(REPO, token=TOKEN, api_url=API, timeout_s=5, read_retries=0)
    inc = open_incident(
        IncidentSettings(local_dir=tmp_path / "incidents"),
        key="k",
        severity=Severity.P1,
        title="Checkout 500s",
        impact="checkout",
        github=tracker,
        now=opened + timedelta(hours=1, minutes=5),  # 5 min after the last alert: within P1's 30 min
    )
    assert inc.action == "unchanged", [o.summary for o in inc.outcomes]
    assert inc.title == "Checkout 500s"
