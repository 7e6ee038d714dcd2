"""Payment plans: agreed from an offer or from terms, each with its schedule of installments."""
