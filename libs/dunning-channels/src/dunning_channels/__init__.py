"""dunning-channels: sending an approved step once, for every channel worker (sms, email).

``domain`` decides (pure), ``ports`` names what the use case needs, ``service`` sends an
approval, ``adapters`` hold the Redis send records, ``bootstrap`` assembles a worker.
"""
