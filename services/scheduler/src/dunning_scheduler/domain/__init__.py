"""Pure escalation rules: no I/O, no async, no clock reads (time is always passed in).

``case`` holds the state of one account's escalation, ``planning`` decides the next step,
``reactions`` applies what other services tell us (accounts, payments, decisions,
deliveries, consumer signals), ``timing`` places instants in the consumer's local day,
``contacts`` picks destinations and ``priority`` orders due cases.
"""
