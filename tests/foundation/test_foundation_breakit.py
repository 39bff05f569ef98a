"""Regressions found by using the tool as an operator would, then trying to break it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from aikinklab_ops.cli import main
from aikinklab_ops.config import load_config
from aikinklab_ops.errors import ConfigError
from aikinklab_ops.secrets import redact_url, url_secrets


def run(argv: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env or {}, stdout=out, stderr=err, cwd=tmp_path)
    return code, out.getvalue(), err.getvalue()


# --- secrets in URLs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["x-vercel-protection-bypass", "access-token", "_vercel_share", "X-Amz-Signature", "client_secret", "Token"],
)
def test_redact_url_masks_secret_looking_query_keys_beyond_the_exact_list(key: str) -> None:
    url = f"https://app.vercel.app/p?teamId=t1&{key}=hush-hush-value"
    redacted = redact_url(url)
    assert "hush-hush-value" not in redacted
    assert "teamId=t1" in redacted


def test_redact_url_masks_an_unparseable_url_too() -> None:
    redacted = redact_url("http://[::1/?token=hush-hush-value")
    assert "hush-hush-value" not in redacted


def test_url_secrets_lists_the_password_and_the_secret_query_values() -> None:
    found = url_secrets("https://user:pass-word-1@h/p?teamId=t1&x-vercel-protection-bypass=bypass-value-2")
    assert "pass-word-1" in found and "bypass-value-2" in found
    assert "t1" not in found
    assert url_secrets("http://[::1/?token=hush-hush-value") == ["hush-hush-value"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.invalid/?token=hush-hush-value",
        "http://example.invalid:99999/?token=hush-hush-value",
        "http://[::1/?token=hush-hush-value",
    ],
)
def test_a_bad_url_is_exit_2_without_a_traceback_or_its_token(tmp_path: Path, url: str) -> None:
    code, out, err = run(["--format", "json", "verify", "--url", url], tmp_path)
    assert code == 2
    assert json.loads(out)["error"]["exit_code"] == 2
    assert "hush-hush-value" not in out
    assert "Traceback" not in err
    assert "hush-hush-value" not in out + err


# --- YAML edge cases -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["? [a, b]\n: 1\n", "{[1]: x}\n", "verify:\n  ? {a: 1}\n  : 2\n"])
def test_an_unhashable_mapping_key_is_a_config_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "ops.yml").write_text(text)
    with pytest.raises(ConfigError, match=r"ops\.yml"):
        load_config(cwd=tmp_path)
    code, _, err = run(["config", "check"], tmp_path)
    assert code == 2
    assert "Traceback" not in err


def test_yaml_merge_keys_work_and_an_explicit_key_overrides_a_merged_one(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text(
        "verify:\n  tls: &tls {warn_days: 40, min_days: 20}\n  health:\n    <<: {deadline_s: 30, path: /healthz}\n"
        "    path: /api/health\n"
    )
    cfg = load_config(cwd=tmp_path)
    assert cfg.get("verify.health.deadline_s") == 30
    assert cfg.get("verify.health.path") == "/api/health"


def test_a_duplicate_key_is_still_refused_next_to_a_merge_key(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text("verify:\n  health:\n    <<: {deadline_s: 30}\n    path: /a\n    path: /b\n")
    with pytest.raises(ConfigError, match="duplicate key 'path'"):
        load_config(cwd=tmp_path)


# --- numbers that are not numbers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("verify:\n  timeout_s: .nan\n", "verify.timeout_s"),
        ("verify:\n  timeout_s: .inf\n", "verify.timeout_s"),
        ("verify:\n  health: {retry_interval_s: .nan}\n", "verify.health.retry_interval_s"),
        ("verify:\n  health: {deadline_s: .inf}\n", "verify.health.deadline_s"),
        ("sla:\n  p95_ms: -.inf\n", "sla.p95_ms"),
    ],
)
def test_nan_and_infinity_are_config_errors(tmp_path: Path, text: str, where: str) -> None:
    (tmp_path / "ops.yml").write_text(text)
    with pytest.raises(ConfigError, match=rf"ops.yml: {where}: expected a finite number"):
        load_config(cwd=tmp_path)


def test_an_absurd_timeout_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text("verify:\n  timeout_s: 99999999999999999999999\n")
    with pytest.raises(ConfigError, match=r"verify\.timeout_s: expected a value <="):
        load_config(cwd=tmp_path)


# --- Ctrl-C ----------------------------------------------------------------------------------


def test_ctrl_c_while_the_commands_load_is_exit_130_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aikinklab_ops.cli as cli

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    code, out, err = run(["--format", "json", "config", "check"], tmp_path)
    assert code == 130
    assert out == ""
    assert err == "interrupted\n"


def test_json_document_on_success_is_one_document(tmp_path: Path) -> None:
    code, out, _ = run(["--format", "json", "config", "show"], tmp_path)
    assert code == 0
    json.loads(out)


# --- output files that cannot be written ------------------------------------------------------


def test_a_report_file_that_is_a_directory_is_exit_2_without_a_traceback(tmp_path: Path) -> None:
    code, _, err = run(["--format", "json", "--report-file", str(tmp_path), "config", "check"], tmp_path)
    assert code == 2
    assert "Traceback" not in err
    assert "--report-file" in err


def test_an_unwritable_github_output_is_exit_2_without_a_traceback(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "no" / "such" / "dir" / "out")}
    code, _, err = run(["config", "check"], tmp_path, env)
    assert code == 2
    assert "GITHUB_OUTPUT" in err


def test_a_closed_stdout_pipe_is_not_a_traceback(tmp_path: Path) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    err = io.StringIO()
    code = main(["--format", "json", "config", "show"], env={}, stdout=ClosedPipe(), stderr=err, cwd=tmp_path)
    assert code == 1
    assert "Traceback" not in err.getvalue()


def test_a_mask_for_a_secret_with_a_percent_sign_is_escaped_as_the_runner_expects() -> None:
    """The runner unescapes %25, %0D and %0A in command data: unescaped, 'ab%0Acd' would mask the wrong thing."""
    from aikinklab_ops.github.runtime import mask_commands

    assert mask_commands(("tok%0Asecret%25x",)) == "::add-mask::tok%250Asecret%2525x\n"


def test_an_ops_yml_that_is_a_directory_is_refused_not_silently_replaced_by_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(cwd=tmp_path)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path / "ops.yml")


def test_an_answer_that_is_not_http_is_not_called_a_closed_connection() -> None:
    import http.client

    import requests
    import urllib3

    from aikinklab_ops.http import describe_transport_error

    def wrapped(inner: Exception) -> requests.ConnectionError:
        return requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", inner))

    url = "http://127.0.0.1:9/"
    garbage = describe_transport_error(wrapped(http.client.BadStatusLine("NOT HTTP\r\n")), url)
    assert "not valid HTTP" in garbage and "NOT HTTP" in garbage
    too_many = describe_transport_error(wrapped(http.client.HTTPException("got more than 100 headers")), url)
    assert "got more than 100 headers" in too_many
    closed = describe_transport_error(wrapped(http.client.RemoteDisconnected("Remote end closed")), url)
    assert "closed the connection before answering" in closed


def test_a_numeric_secret_is_masked_and_the_json_stays_valid(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text("verify:\n  pages:\n    - path: /\n      max_ms: ${SOME_TOKEN}\n")
    report = tmp_path / "report.json"
    env = {"SOME_TOKEN": "123456789"}
    code, out, err = run(["--format", "json", "--report-file", str(report), "config", "show"], tmp_path, env)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["config"]["verify"]["pages"][0]["max_ms"] == "***"
    assert "123456789" not in out + err + report.read_text()
    json.loads(report.read_text())


def test_a_secret_that_looks_like_a_number_in_a_report_keeps_the_json_valid(tmp_path: Path) -> None:
    # a secret-looking variable whose value also occurs as a number in the output (here the sla)
    env = {"SOME_SECRET": "99.955"}
    (tmp_path / "ops.yml").write_text("sla:\n  uptime_percent: 99.955\n")
    code, out, err = run(["--format", "json", "config", "show"], tmp_path, env)
    assert code == 0, err
    json.loads(out)
    assert "99.955" not in out


def test_terminal_control_sequences_from_a_server_are_not_printed_raw() -> None:
    """A body excerpt or header a server sent must not retitle or clear the operator's terminal."""
    from aikinklab_ops.report import CheckResult, Report, Status
    from aikinklab_ops.report.formats import render

    evil = "\x1b]0;pwned\x07\x1b[2J\rok"
    report = Report(kind="verify", checks=(CheckResult("health", Status.FAIL, f"HTTP 200 {evil}", {"body": evil}),))
    for fmt in ("text", "github"):
        text = render(report, fmt)
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text
        assert "\\x1b]0;pwned" in text
