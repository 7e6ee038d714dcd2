"""The portfolio: figures operations watch over every account."""
