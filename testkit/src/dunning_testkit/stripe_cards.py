"""Stripe's test cards that decline (money-api.md) and how Stripe says so: its decline code,
the message for the card holder and the error's code (``card_declined`` but for the declines
that have a code of their own). The provider sandbox answers them so; the payment page's
processor reads them back."""

from __future__ import annotations

from typing import NamedTuple


class DeclinedCard(NamedTuple):
    number: str
    decline_code: str
    message: str
    code: str = "card_declined"


DECLINED_CARDS = (
    DeclinedCard("4000000000000002", "generic_decline", "Your card was declined."),
    DeclinedCard("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
    DeclinedCard("4000000000000069", "expired_card", "Your card has expired.", "expired_card"),
    DeclinedCard(
        "4000000000000127",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
        "incorrect_cvc",
    ),
)
