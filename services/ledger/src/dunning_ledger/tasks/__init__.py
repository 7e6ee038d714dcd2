"""Agent tasks: call-backs and replies no rule understood, queued for people."""
