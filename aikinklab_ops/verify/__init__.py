"""Post-deploy verification: prove a deployment is healthy before anyone trusts it.

Each check lives in its own module with its judging (pure, over a response or a certificate)
kept apart from its I/O; ``run`` runs them concurrently into one Report.
"""

from aikinklab_ops.verify.run import run_verification, selected_checks
from aikinklab_ops.verify.settings import CHECK_NAMES, VerifySettings, parse_only, target_url

__all__ = ["CHECK_NAMES", "VerifySettings", "parse_only", "run_verification", "selected_checks", "target_url"]
