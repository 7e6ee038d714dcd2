"""The consumer's payment page: the link in every message, served from a signed token."""
