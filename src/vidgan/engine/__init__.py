"""vidgan.engine."""
