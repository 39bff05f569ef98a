"""Configuration: ``ops.yml`` over the packaged AIKinkLab defaults, validated, plus the run context.

Each capability owns one section: its schema in ``schema/<section>.json`` and its defaults in
``defaults/<section>.yml``. The loader composes them, so adding a capability touches no shared file.
"""

from aikinklab_ops.config.context import Credentials, RunContext, load_context
from aikinklab_ops.config.loader import Config, load_config

__all__ = ["Config", "Credentials", "RunContext", "load_config", "load_context"]
