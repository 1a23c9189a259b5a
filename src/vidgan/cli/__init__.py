"""vidgan.cli."""
