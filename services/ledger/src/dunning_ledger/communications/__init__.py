"""The communication log: steps, gate decisions, deliveries and consumer signals."""
