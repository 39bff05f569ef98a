"""A throwaway copy of the AIKinkLab app repository for the demo to release, break, back up and restore.

It holds what the usual workflow steps would have left behind (JUnit and npm audit reports,
Lighthouse results) at the paths the gates read by default, a real git history with branches
and a tag, and an ``.env.local`` whose secret must never reach a log or an unencrypted backup.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from aikinklab_ops.errors import GitError
from aikinklab_ops.gates.examples import artifacts_dir
from aikinklab_ops.site.example import example_site

DEMO_SECRET = "demo-secret-value-that-must-not-leak-4c1d"  # noqa: S105 (a fake, planted to prove redaction)

OPS_YML = """\
# The demo's ops.yml: the AIKinkLab defaults, with waits shortened for a rehearsal on the sandbox
# and the alert channels pointed at local sinks the demo starts.
deploy:
  poll_intervals_s: [0.1]
  timeout_s: 120
verify:
  timeout_s: 5
  health: {{deadline_s: 2, retry_interval_s: 0.2}}
  latency: {{samples: 10, concurrency: 4}}
  pages:
    - {{path: /, name: home, contains: AIKinkLab}}
    - {{path: /about, name: about, contains: About AIKinkLab}}
    - {{path: /pricing, name: pricing, contains: Pricing}}
gates:
  feature_flags: {{file: feature-flags.yml}}
monitor:
  interval_s: 30
  duration_s: 300
  history: monitoring/history.jsonl
alerts:
  routes: {{high: [email, sms], medium: [email], low: [dashboard]}}
  channels:
    email:
      smtp_host: 127.0.0.1
      smtp_port: {smtp_port}
      starttls: false
      sender: ops@aikinklab.com
      recipients: [oncall@aikinklab.com]
    sms:
      webhook_url: {webhook_url}
      recipients: ["+15550100"]
    dashboard: {{}}
incident:
  local_dir: incidents
backup:
  output_dir: backups
  assets_dirs: [site]
  monitoring_dir: monitoring
"""


def _git(repo: Path, *args: str) -> None:
    env = {
        "GIT_AUTHOR_NAME": "AIKinkLab Dev",
        "GIT_AUTHOR_EMAIL": "dev@aikinklab.com",
        "GIT_COMMITTER_NAME": "AIKinkLab Dev",
        "GIT_COMMITTER_EMAIL": "dev@aikinklab.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed in the demo workspace: {done.stderr.strip()}")


def make_workspace(root: Path, *, smtp_port: int, webhook_url: str) -> Path:
    repo = root / "aikinklab"
    repo.mkdir(parents=True)
    with example_site() as site:
        shutil.copytree(site, repo / "site")
    art = artifacts_dir()
    (repo / "reports").mkdir()
    shutil.copy(art / "junit.xml", repo / "reports" / "junit.xml")
    shutil.copy(art / "npm-audit.json", repo / "reports" / "npm-audit.json")
    shutil.copytree(art / "lighthouse", repo / ".lighthouseci")
    shutil.copy(art / "feature-flags.yml", repo / "feature-flags.yml")
    (repo / "ops.yml").write_text(OPS_YML.format(smtp_port=smtp_port, webhook_url=webhook_url), encoding="utf-8")
    (repo / "package.json").write_text('{"name": "aikinklab", "private": true, "scripts": {"build": "next build"}}\n')
    (repo / ".env.example").write_text("NEXT_PUBLIC_SITE_URL=\nSTRIPE_SECRET_KEY=\n")
    (repo / ".env.local").write_text(
        f"NEXT_PUBLIC_SITE_URL=https://www.aikinklab.com\nSTRIPE_SECRET_KEY={DEMO_SECRET}\n"
    )
    (repo / ".gitignore").write_text(".env.local\nbackups/\nincidents/\nmonitoring/\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "AIKinkLab site 1.4.2")
    _git(repo, "tag", "-a", "v1.4.2", "-m", "release 1.4.2")
    _git(repo, "branch", "develop")
    return repo


def break_release(repo: Path) -> None:
    """The next release ships a health endpoint that reports the database down."""
    (repo / "site" / "api" / "health.json").write_text(
        '{"status": "down", "version": "1.5.0", "checks": {"app": "ok", "database": "down"}}\n', encoding="utf-8"
    )
    _git(repo, "commit", "-q", "-am", "1.5.0: new database pool (broken)")
