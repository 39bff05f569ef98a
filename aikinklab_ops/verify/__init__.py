"""Post-deploy verification: prove a deployment is healthy before anyone trusts it."""
