"""dunning-ledger."""
