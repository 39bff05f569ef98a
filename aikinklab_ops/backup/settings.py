"""Frozen backup settings, built once from the ``backup`` and ``sla`` sections.

Library functions take this object rather than the whole config, so a caller (the monitor, a test,
a script) can build one by hand without writing an ``ops.yml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aikinklab_ops.config import Config

MIB = 1024 * 1024


@dataclass(frozen=True)
class Retention:
    local_days: float = 30
    remote_days: float = 90
    keep_min: int = 3


@dataclass(frozen=True)
class GitHubPacing:
    timeout_s: float = 60
    seconds_between_writes: float = 1.0
    max_rate_limit_wait_s: float = 300
    upload_attempts: int = 3


@dataclass(frozen=True)
class BackupSettings:
    output_dir: str = "backups"
    config_files: tuple[str, ...] = (
        "vercel.json",
        "next.config.*",
        "package.json",
        "package-lock.json",
        "pnpm-lock.yaml",
        "yarn.lock",
        "bun.lockb",
        ".env.example",
        "config/",
        ".vercel/project.json",
        ".github/workflows/",
    )
    env_files: tuple[str, ...] = (".env*",)
    assets_dirs: tuple[str, ...] = ("public",)
    monitoring_dir: str | None = "monitoring"
    compression_level: int = 6
    encrypt_to: tuple[str, ...] = ()
    tag_prefix: str = "backup-"
    part_size: int = 2000 * MIB
    retention: Retention = field(default_factory=Retention)
    github: GitHubPacing = field(default_factory=GitHubPacing)
    rpo_hours: float = 24
    rto_minutes: float = 60

    @classmethod
    def from_config(cls, cfg: Config) -> BackupSettings:
        sec: dict[str, Any] = cfg.section("backup")
        sla = cfg.section("sla")
        base = cls()
        ret = sec.get("retention") or {}
        gh = sec.get("github") or {}
        return cls(
            output_dir=str(sec.get("output_dir", base.output_dir)),
            config_files=tuple(sec.get("config_files", base.config_files)),
            env_files=tuple(sec.get("env_files", base.env_files)),
            assets_dirs=tuple(sec.get("assets_dirs", base.assets_dirs)),
            monitoring_dir=sec.get("monitoring_dir", base.monitoring_dir),
            compression_level=int(sec.get("compression_level", base.compression_level)),
            encrypt_to=tuple(sec.get("encrypt_to", base.encrypt_to)),
            tag_prefix=str(sec.get("tag_prefix", base.tag_prefix)),
            part_size=int(sec.get("part_size_mib", base.part_size // MIB)) * MIB,
            retention=Retention(
                local_days=float(ret.get("local_days", base.retention.local_days)),
                remote_days=float(ret.get("remote_days", base.retention.remote_days)),
                keep_min=int(ret.get("keep_min", base.retention.keep_min)),
            ),
            github=GitHubPacing(
                timeout_s=float(gh.get("timeout_s", base.github.timeout_s)),
                seconds_between_writes=float(gh.get("seconds_between_writes", base.github.seconds_between_writes)),
                max_rate_limit_wait_s=float(gh.get("max_rate_limit_wait_s", base.github.max_rate_limit_wait_s)),
                upload_attempts=int(gh.get("upload_attempts", base.github.upload_attempts)),
            ),
            rpo_hours=float(sla.get("rpo_hours", base.rpo_hours)),
            rto_minutes=float(sla.get("rto_minutes", base.rto_minutes)),
        )
