"""dunning-cli."""
