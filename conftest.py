"""Root pytest configuration: the shared fixtures of the real local stack."""

pytest_plugins = ["dunning_testkit.stack", "dunning_testkit.servers"]
