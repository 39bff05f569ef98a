"""Backups that restore: create (full, code, config), verify, restore, publish, prune, status.

A backup is only as good as its last restore, so creation ends with the same restore drill that
``verify_backup`` runs, and an archive gets its final name only after passing it.
"""

from aikinklab_ops.backup.catalog import LocalBackup, PruneResult, backup_status, list_local, prune
from aikinklab_ops.backup.create import BackupResult, create_backup
from aikinklab_ops.backup.restore import RestoreResult, restore
from aikinklab_ops.backup.settings import BackupSettings, Retention
from aikinklab_ops.backup.verify import verify_backup

__all__ = [
    "BackupResult",
    "BackupSettings",
    "LocalBackup",
    "PruneResult",
    "RestoreResult",
    "Retention",
    "backup_status",
    "create_backup",
    "list_local",
    "prune",
    "restore",
    "verify_backup",
]
