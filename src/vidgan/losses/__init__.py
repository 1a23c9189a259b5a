"""vidgan.losses."""
