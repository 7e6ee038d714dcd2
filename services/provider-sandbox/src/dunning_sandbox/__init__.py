"""dunning-sandbox."""
