"""vidgan.nn."""
