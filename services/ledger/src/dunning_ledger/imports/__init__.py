"""Account imports: CSV or JSON files that open accounts and update their data."""
