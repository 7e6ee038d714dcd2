"""dunning-email."""
