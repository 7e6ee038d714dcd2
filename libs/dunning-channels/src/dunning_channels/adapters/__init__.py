"""The channel workers' shared I/O edges (Redis send records)."""
