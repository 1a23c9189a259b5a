"""vidgan.sampling."""
