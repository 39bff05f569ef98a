"""Environment files lose every value and keep every key, whatever the dotenv dialect."""

from __future__ import annotations

from aikinklab_ops.backup.envfiles import redact_env


def test_values_go_keys_stay() -> None:
    text = (
        "# comment stays\n"
        "API_TOKEN=abc123secret\n"
        "export DB_URL='postgres://u:pw@h/db'\n"
        'QUOTED="has = sign and # hash"\n'
        "SPACED = value with spaces\n"
        "\n"
        "EMPTY=\n"
    )
    out, keys = redact_env(text)
    assert keys == ["API_TOKEN", "DB_URL", "QUOTED", "SPACED", "EMPTY"]
    for secret in ("abc123secret", "postgres://", "has = sign", "value with spaces"):
        assert secret not in out
    assert "# comment stays\n" in out
    assert "API_TOKEN=\n" in out and "export DB_URL=\n" in out and "SPACED=\n" in out


def test_multiline_values_are_consumed_whole() -> None:
    text = 'PRIVATE_KEY="-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----"\nNEXT=1\n'
    out, keys = redact_env(text)
    assert keys == ["PRIVATE_KEY", "NEXT"]
    assert "MIIEvQIBADANBg" not in out and "BEGIN" not in out and "END KEY" not in out


def test_lines_that_are_not_assignments_are_dropped() -> None:
    out, keys = redact_env("this is not dotenv but could be a secret: hunter22\nOK=1\n")
    assert "hunter22" not in out and keys == ["OK"]


def test_crlf_files() -> None:
    out, keys = redact_env("A=1\r\nB=two\r\n")
    assert keys == ["A", "B"] and "two" not in out
