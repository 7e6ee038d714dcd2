"""Adapters at the edges: Kafka publishing of planned steps."""
