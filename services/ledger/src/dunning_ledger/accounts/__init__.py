"""Accounts: one account and its debt, read with what is recorded against it; the summary."""
