"""vidgan.metrics.detectors."""
