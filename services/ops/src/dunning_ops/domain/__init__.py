"""The dashboard's pure logic: view models and charts from the services' answers (no I/O)."""
