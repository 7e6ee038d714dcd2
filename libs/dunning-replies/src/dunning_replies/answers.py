"""What we answer to a reply that must be answered: the opt-out and opt-in confirmations
and the HELP reply (CTIA: name, contact, how to opt out), in the consumer's language.

Pure and fixed per language, so that every text can be held against the gate's content
rules once, in a test (tests/cross/test_answers_pass_the_gate.py), instead of on each send.
"""

from __future__ import annotations

from dataclasses import dataclass

# The intents that get an answer, and the answer's kind (what the communication log shows).
ANSWERED = {
    "opt_out": "opt_out_confirmation",
    "opt_out_all": "opt_out_confirmation",
    "opt_in": "opt_in_confirmation",
    "help": "help_reply",
}

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "opt_out_confirmation": (
            "{creditor}, a message from a debt collector: you are unsubscribed and will "
            "receive no more text messages from this number. Reply START to resubscribe. "
            "Help: {contact}"
        ),
        "opt_in_confirmation": (
            "{creditor}, a message from a debt collector: you are subscribed again to text "
            "messages about your account. Reply STOP to opt out. Help: {contact}"
        ),
        "help_reply": (
            "{creditor}, a message from a debt collector. Questions about your account: "
            "{contact}. Msg&data rates may apply. Reply STOP to opt out."
        ),
    },
    "es": {
        "opt_out_confirmation": (
            "{creditor}, mensaje de un cobrador de deudas: se ha dado de baja y no recibirá "
            "más mensajes de texto de este número. Responda START para volver a "
            "suscribirse. Ayuda: {contact}"
        ),
        "opt_in_confirmation": (
            "{creditor}, mensaje de un cobrador de deudas: está suscrito de nuevo a los "
            "mensajes de texto sobre su cuenta. Responda STOP para darse de baja. "
            "Ayuda: {contact}"
        ),
        "help_reply": (
            "{creditor}, mensaje de un cobrador de deudas. Preguntas sobre su cuenta: "
            "{contact}. "
            "Pueden aplicarse tarifas de mensajes y datos. Responda STOP para darse de baja."
        ),
    },
    "zh": {
        "opt_out_confirmation": (
            "{creditor}：本信息来自债务催收机构。您已退订，此号码将不再向您发送短信。"
            "回复 START 重新订阅。帮助：{contact}"
        ),
        "opt_in_confirmation": (
            "{creditor}：本信息来自债务催收机构。您已重新订阅有关您账户的短信。"
            "回复 STOP 退订。帮助：{contact}"
        ),
        "help_reply": (
            "{creditor}：本信息来自债务催收机构。账户问题请联系：{contact}。"
            "可能产生短信和数据费用。"
            "回复 STOP 退订。"
        ),
    },
}

LANGUAGES = tuple(_TEXTS)


@dataclass(frozen=True)
class Answer:
    """One answer: its kind (``opt_out_confirmation`` …), language and text."""

    kind: str
    language: str
    text: str


def language_of(locale: str | None, reply_language: str | None) -> str:
    """The account's language when known (``es_US`` → ``es``), else the reply's, else English."""
    for candidate in (locale, reply_language):
        code = (candidate or "").replace("-", "_").split("_")[0].lower()
        if code in _TEXTS:
            return code
    return "en"


def answer_for(intent: str, language: str, *, creditor: str, contact: str) -> Answer | None:
    """The answer an intent gets in ``language`` (English when we do not write it); None for
    an intent we do not answer (replies are acted on, not acknowledged)."""
    kind = ANSWERED.get(intent)
    if kind is None:
        return None
    lang = language if language in _TEXTS else "en"
    return Answer(kind, lang, _TEXTS[lang][kind].format(creditor=creditor, contact=contact))
