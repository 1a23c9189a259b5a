"""vidgan.families."""
