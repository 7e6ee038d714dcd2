"""dunning-core."""
