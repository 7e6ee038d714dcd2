"""Payments and payment plans recorded against an account."""
