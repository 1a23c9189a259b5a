"""vidgan.io."""
