"""Promises to pay and settlements: what the consumer agreed to pay, by when."""
