"""Frozen settings for the Vercel client, built from the ``vercel`` config section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aikinklab_ops.config import Config


@dataclass(frozen=True)
class VercelSettings:
    project_name: str = "aikinklab"
    root_directory: str | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    retries: int = 4
    max_retry_after_s: float = 60.0
    backoff_s: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)

    @classmethod
    def from_config(cls, cfg: Config) -> VercelSettings:
        sec: dict[str, Any] = cfg.section("vercel")
        return cls(
            project_name=str(cfg.get("project.name") or "aikinklab"),
            root_directory=sec.get("root_directory") or None,
            connect_timeout_s=float(sec.get("connect_timeout_s", 5)),
            read_timeout_s=float(sec.get("read_timeout_s", 60)),
            retries=int(sec.get("retries", 4)),
            max_retry_after_s=float(sec.get("max_retry_after_s", 60)),
            backoff_s=tuple(float(x) for x in sec.get("backoff_s") or (1, 2, 4, 8)),
        )
