"""The AIKinkLab production runbook as software.

The library does the work and returns results; the CLI (``aikinklab_ops.cli``) is the only
place that prints, reads the process environment beyond the config loader, or exits.
"""

__version__ = "0.1.0"
