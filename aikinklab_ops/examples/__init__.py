"""Example inputs that ship with the package (the bundled AIKinkLab site for ``demo``)."""
