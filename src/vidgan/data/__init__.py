"""vidgan.data."""
