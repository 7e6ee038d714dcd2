"""dunning-gate."""
