"""The ledger's edges: PostgreSQL (engine, migrations), the outbox relay, Kafka consumers."""
