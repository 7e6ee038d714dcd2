"""API keys: created, listed and revoked by admins; published for every verifier."""
