"""Reading a consumer's inbound message as an opt-out, an opt-in, or neither.

TCPA revocation is "by any reasonable means" (47 CFR 64.1200(a)(10)-(12)), so beyond the
CTIA keywords as a whole message ("STOP"), a short message that contains one ("stop
please", "No más!!") opts out too, as does an explicit phrase anywhere ("please stop
texting me about this"). Words and phrases come from the policy, in several languages;
the text is normalised first (case, accents, punctuation).
"""

from __future__ import annotations

from typing import Literal

from dunning_gate.policy.model import KeywordSettings
from dunning_gate.policy.phrases import normalize

InboundIntent = Literal["opt_out", "opt_in"]


def classify_inbound(text: str, keywords: KeywordSettings) -> InboundIntent | None:
    """ "opt_out", "opt_in" or None for one inbound message."""
    normal = normalize(text)
    if not normal:
        return None
    text = f" {normal} "
    words = keywords.all_opt_out_words
    if text in words:
        return "opt_out"
    if text in keywords.opt_in_words:
        return "opt_in"
    if any(phrase in text for phrase in keywords.all_opt_out_phrases):
        return "opt_out"
    if normal.count(" ") < keywords.keyword_message_max_words and any(
        word in text for word in words
    ):
        return "opt_out"
    return None


def is_opt_out_text(text: str, keywords: KeywordSettings) -> bool:
    return classify_inbound(text, keywords) == "opt_out"
