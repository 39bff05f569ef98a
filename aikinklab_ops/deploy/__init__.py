"""Deploy, promote and roll back on Vercel; map branches to environments; GitHub statuses."""

from aikinklab_ops.deploy.core import DeployRequest, DeployResult, build_create_body, deploy, deployment_url
from aikinklab_ops.deploy.environment import EnvironmentTarget, environments_from_config, resolve_environment
from aikinklab_ops.deploy.files import FileSet, LocalFile, collect_files
from aikinklab_ops.deploy.git import GitMetadata, gather_git_metadata
from aikinklab_ops.deploy.promote import PromoteResult, RollbackResult, promote, rollback
from aikinklab_ops.deploy.settings import DeploySettings, PollPolicy

__all__ = [
    "DeployRequest",
    "DeployResult",
    "DeploySettings",
    "EnvironmentTarget",
    "FileSet",
    "GitMetadata",
    "LocalFile",
    "PollPolicy",
    "PromoteResult",
    "RollbackResult",
    "build_create_body",
    "collect_files",
    "deploy",
    "deployment_url",
    "environments_from_config",
    "gather_git_metadata",
    "promote",
    "resolve_environment",
    "rollback",
]
