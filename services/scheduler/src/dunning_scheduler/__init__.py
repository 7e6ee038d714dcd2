"""dunning-scheduler."""
