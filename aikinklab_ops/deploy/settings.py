"""Frozen deploy settings from the ``deploy`` and ``vercel`` config sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aikinklab_ops.config import Config
from aikinklab_ops.vercel.client import MAX_FILES
from aikinklab_ops.vercel.settings import VercelSettings


@dataclass(frozen=True)
class PollPolicy:
    """Seconds between status polls: each interval for ``per_interval`` polls, the last one after."""

    intervals_s: tuple[float, ...] = (1.0, 5.0, 15.0)
    per_interval: int = 10

    def interval(self, poll_number: int) -> float:
        stage = min(poll_number // max(1, self.per_interval), len(self.intervals_s) - 1)
        return self.intervals_s[stage]


@dataclass(frozen=True)
class DeploySettings:
    project_name: str = "aikinklab"
    root_directory: str | None = None
    default_environment: str = "preview"
    timeout_s: float = 1200.0
    cancel_on_timeout: bool = True
    concurrency: int = 8
    poll: PollPolicy = field(default_factory=PollPolicy)
    log_lines: int = 50
    include_env_files: bool = False
    ignore: tuple[str, ...] = ()
    github_deployment: bool = True
    pr_comment: bool = True
    hash_workers: int = 1  # measured: one thread beats four on many small files (benchmarks/deploy_upload.py)
    max_files: int = MAX_FILES

    @classmethod
    def from_config(cls, cfg: Config) -> DeploySettings:
        sec: dict[str, Any] = cfg.section("deploy")
        vercel = VercelSettings.from_config(cfg)
        return cls(
            project_name=vercel.project_name,
            root_directory=vercel.root_directory,
            default_environment=str(sec.get("default_environment", "preview")),
            timeout_s=float(sec.get("timeout_s", 1200)),
            cancel_on_timeout=bool(sec.get("cancel_on_timeout", True)),
            concurrency=int(sec.get("concurrency", 8)),
            poll=PollPolicy(
                tuple(float(x) for x in sec.get("poll_intervals_s") or (1, 5, 15)),
                int(sec.get("polls_per_interval", 10)),
            ),
            log_lines=int(sec.get("log_lines", 50)),
            include_env_files=bool(sec.get("include_env_files", False)),
            ignore=tuple(str(p) for p in sec.get("ignore") or ()),
            github_deployment=bool(sec.get("github_deployment", True)),
            pr_comment=bool(sec.get("pr_comment", True)),
        )
