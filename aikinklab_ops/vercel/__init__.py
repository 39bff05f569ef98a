"""Vercel REST client: upload files, create/get/list deployments, events, aliases, promote, rollback."""

from aikinklab_ops.vercel.client import MAX_FILES, REQUEST_KEY, Deployment, VercelClient, new_request_key
from aikinklab_ops.vercel.errors import VercelApiError, VercelTransportError, decode_error
from aikinklab_ops.vercel.factory import client_from_context

__all__ = [
    "MAX_FILES",
    "REQUEST_KEY",
    "Deployment",
    "VercelApiError",
    "VercelClient",
    "VercelTransportError",
    "client_from_context",
    "decode_error",
    "new_request_key",
]
