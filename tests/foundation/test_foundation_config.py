"""ops.yml loading: the messages an operator reads when a file is wrong, and the defaults when none."""

from __future__ import annotations

from pathlib import Path

import pytest

from aikinklab_ops.config import load_config
from aikinklab_ops.errors import ConfigError, InputError


def write(tmp_path: Path, text: str, name: str = "ops.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_the_aikinklab_defaults(tmp_path: Path) -> None:
    cfg = load_config(cwd=tmp_path)
    assert cfg.source == "built-in defaults"
    assert cfg.get("environments.production.url") == "https://www.aikinklab.com"
    assert cfg.get("verify.health.path") == "/api/health"
    assert cfg.get("sla.p95_ms") == 2000
    assert cfg.get("web_vitals.lcp_ms") == 2500


def test_ops_yml_in_cwd_is_merged_over_defaults(tmp_path: Path) -> None:
    write(tmp_path, "verify:\n  tls:\n    min_days: 7\n")
    cfg = load_config(cwd=tmp_path)
    assert cfg.source.endswith("ops.yml")
    assert cfg.get("verify.tls.min_days") == 7
    assert cfg.get("verify.tls.warn_days") == 30  # untouched default survives the merge


def test_type_error_names_file_path_expected_found_and_fix(tmp_path: Path) -> None:
    write(tmp_path, "verify:\n  tls:\n    min_days: fourteen\n")
    with pytest.raises(ConfigError) as info:
        load_config(cwd=tmp_path)
    text = str(info.value)
    assert text.startswith('ops.yml: verify.tls.min_days: expected an integer, found "fourteen"')
    assert "(line 3)" in text
    assert "fix:" in text and "14" in text
    assert info.value.exit_code == 2


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    write(tmp_path, "verify:\n  tls:\n    min_dayz: 7\n")
    with pytest.raises(ConfigError, match=r'verify\.tls\.min_dayz: unknown key "min_dayz"') as info:
        load_config(cwd=tmp_path)
    assert 'did you mean "min_days"' in str(info.value)


def test_unknown_section_lists_valid_ones_when_nothing_is_close(tmp_path: Path) -> None:
    write(tmp_path, "zzzz: {}\n")
    with pytest.raises(ConfigError, match="unknown key") as info:
        load_config(cwd=tmp_path)
    assert "verify" in str(info.value)


def test_enum_error_lists_choices(tmp_path: Path) -> None:
    write(tmp_path, "verify:\n  security_headers:\n    min_grade: Z\n")
    with pytest.raises(ConfigError, match=r'expected one of "A\+", "A"'):
        load_config(cwd=tmp_path)


def test_duplicate_keys_are_refused_with_both_lines(tmp_path: Path) -> None:
    write(tmp_path, "verify:\n  timeout_s: 5\n  timeout_s: 9\n")
    with pytest.raises(ConfigError, match=r"ops.yml:3: duplicate key 'timeout_s' \(first at line 2\)"):
        load_config(cwd=tmp_path)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "verify:\n  tls: [unclosed\n")
    with pytest.raises(ConfigError, match=r"ops.yml:\d+: not valid YAML"):
        load_config(cwd=tmp_path)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, "- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping of sections"):
        load_config(cwd=tmp_path)


def test_explicit_missing_file_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yml", cwd=tmp_path)


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "ops.yml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="cannot read"):
        load_config(path)


def test_env_expansion_with_default_and_types(tmp_path: Path) -> None:
    write(
        tmp_path,
        "verify:\n  tls:\n    min_days: ${TLS_MIN:-14}\n    warn_days: ${TLS_WARN}\n"
        "environments:\n  production:\n    url: https://${HOST}/\n    branch: $${literal}\n",
    )
    cfg = load_config(cwd=tmp_path, env={"TLS_WARN": "45", "HOST": "example.test"})
    assert cfg.get("verify.tls.min_days") == 14
    assert cfg.get("verify.tls.warn_days") == 45
    assert cfg.get("environments.production.url") == "https://example.test/"
    assert cfg.get("environments.production.branch") == "${literal}"


def test_unset_variable_without_default_is_named(tmp_path: Path) -> None:
    write(tmp_path, "environments:\n  production:\n    url: ${PROD_URL}\n")
    with pytest.raises(ConfigError, match=r"environments\.production\.url: environment variable PROD_URL is not set"):
        load_config(cwd=tmp_path, env={})


def test_expanded_value_is_still_validated(tmp_path: Path) -> None:
    write(tmp_path, "verify:\n  tls:\n    min_days: ${TLS_MIN}\n")
    with pytest.raises(ConfigError, match='expected an integer, found "soon"'):
        load_config(cwd=tmp_path, env={"TLS_MIN": "soon"})


def test_secret_looking_variables_become_secrets_and_are_masked(tmp_path: Path) -> None:
    write(tmp_path, "project:\n  repository: ${REPO_TOKEN}\n")
    cfg = load_config(cwd=tmp_path, env={"REPO_TOKEN": "s3cr3t-value-123"})
    assert "s3cr3t-value-123" in cfg.secrets
    assert "s3cr3t-value-123" not in repr(cfg.masked())


def test_an_impossible_date_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "gates:\n  security_audit:\n    allowlist:\n      - {id: GHSA-x, reason: r, expires: 2027-13-01}\n")
    with pytest.raises(ConfigError, match=r"ops.yml:4: '2027-13-01' is not a real date"):
        load_config(cwd=tmp_path)


def test_an_explicit_timestamp_tag_on_a_non_date_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "project:\n  repository: !!timestamp foo\n")
    with pytest.raises(ConfigError, match=r"ops.yml:2: 'foo' is not a real date"):
        load_config(cwd=tmp_path)
