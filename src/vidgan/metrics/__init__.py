"""vidgan.metrics."""
