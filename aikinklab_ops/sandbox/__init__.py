"""A local, Vercel-compatible API and edge for tests, release rehearsals and the README's default.

``Sandbox`` speaks the operations of the contract subset (``contract.py``) on loopback, builds
nothing but moves each deployment through QUEUED -> BUILDING -> READY on a timer, serves READY
deployments and aliases with the project's ``vercel.json`` applied, and injects the failures a
client must survive (``faults.py``). See docs/sandbox.md.
"""

from __future__ import annotations

from aikinklab_ops.sandbox.app import ApiRequest, ApiResponse, Exchange, SandboxApp, SandboxSettings
from aikinklab_ops.sandbox.contract import Contract
from aikinklab_ops.sandbox.faults import Fault, FaultError, Faults
from aikinklab_ops.sandbox.model import Deployment, EnvVar, Project
from aikinklab_ops.sandbox.server import DEFAULT_TOKEN, Sandbox

__all__ = [
    "DEFAULT_TOKEN",
    "ApiRequest",
    "ApiResponse",
    "Contract",
    "Deployment",
    "EnvVar",
    "Exchange",
    "Fault",
    "FaultError",
    "Faults",
    "Project",
    "Sandbox",
    "SandboxApp",
    "SandboxSettings",
]
