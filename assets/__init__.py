"""Course assets: the matplotlib style sheet (installed with the package) and the figure gallery."""
