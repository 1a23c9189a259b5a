"""vidgan.core."""
