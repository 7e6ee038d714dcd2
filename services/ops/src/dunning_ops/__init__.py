"""The operations dashboard: portfolio, pipeline, accounts and policies, over the services' APIs."""
