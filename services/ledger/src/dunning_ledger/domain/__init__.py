"""The ledger's pure rules: import validation, money, balances, the communication log's
folding, flags from signals, the summary. No I/O, no async: a test needs nothing running."""
