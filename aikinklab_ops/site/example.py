"""Where the bundled example site lives once the package is installed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path


@contextmanager
def example_site() -> Iterator[Path]:
    """The bundled AIKinkLab static export as a real folder, for as long as the block runs."""
    with resources.as_file(resources.files("aikinklab_ops.examples").joinpath("site")) as path:
        yield Path(path)
