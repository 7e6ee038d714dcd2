"""dunning-sms."""
