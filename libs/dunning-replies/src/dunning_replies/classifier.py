"""Classify one inbound reply: its intent, language, and any date or amount in it.

Precedence, first that applies wins (a message often holds several cues):

1. Twilio's `OptOutType` (Advanced Opt-Out: STOP / START / HELP), when the provider sent it.
2. `opt_out_all`, then `opt_out`: a keyword as the whole message or a sentence of its own,
   an opt-out word in a short / shouted message (or anywhere, for the strong ones such
   as STOP and UNSUBSCRIBE), an opt-out phrase anywhere, or a
   misspelt keyword ("stpo", "unsubcribe"). Opt-out wins every tie: a missed opt-out is a
   violation, a false one only costs a contact. The only excuses are a negation right
   before the plain word ("don't stop my plan") and an idiom ("stop by tomorrow to pay");
   an explicit phrase or keyword elsewhere in the message still opts out.
3. `opt_in` (START, UNSTOP; YES and the like only with `after_opt_out`).
4. `help`, 5. `wrong_number`, 6. `dispute`, 7. `bill_not_received`.
8. Money: `promise` (a promise phrase, or a pay cue with a date) beats `plan` when a date
   is given and no instalment cue ("a month") is present; otherwise `plan`, then `promise`,
   then `pay`.
9. `call_me`, 10. `think_time`, 11. `unknown`.

Every language's vocabulary is matched against every message (consumers mix: "no more
texts por favor"); the language reported is the one the message is written in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TypedDict, Unpack
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dunning_replies.compiled import Compiled, Confidence, Hit, found
from dunning_replies.extract import Amount, find_amount, find_date
from dunning_replies.text import Normalized, clean, has_han, normalize, segments, within_one_edit
from dunning_replies.vocabulary import (
    OPT_OUT_INTENTS,
    Intent,
    Vocabulary,
    load_vocabulary,
)

_PROVIDER = {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}
_ORDER: tuple[Intent, ...] = (
    "opt_out_all",
    "opt_out",
    "opt_in",
    "help",
    "wrong_number",
    "dispute",
    "bill_not_received",
)
_LETTERS = re.compile(r"[^\W\d_]+")
_SPANISH_MARKS = re.compile(r"[ñ¿¡áéíóú]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Classification:
    """What one reply means. `matched` is the vocabulary term that decided it."""

    intent: Intent
    language: str
    matched: str | None = None
    date: date | None = None
    amount: Amount | None = None
    confidence: Confidence = "low"
    why: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "language": self.language,
            "matched": self.matched,
            "date": self.date.isoformat() if self.date else None,
            "amount": self.amount.as_dict() if self.amount else None,
            "confidence": self.confidence,
            "why": self.why,
        }


class Classifier:
    """A vocabulary compiled for matching; `classify` is its one use case."""

    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        self.vocabulary = vocabulary or load_vocabulary()
        self._c = Compiled.of(self.vocabulary)

    def classify(
        self,
        text: object,
        *,
        locale_hint: str | None = None,
        tz: str = "America/New_York",
        now: datetime | None = None,
        provider_opt_out_type: str | None = None,
        after_opt_out: bool = False,
        currency: str = "USD",
    ) -> Classification:
        """Raises ValueError for an unknown zone (a caller's mistake); never for the text."""
        try:
            zone = ZoneInfo(tz)
        except (ValueError, ZoneInfoNotFoundError) as error:
            raise ValueError(f"unknown time zone {tz!r}") from error
        raw = clean(text) if isinstance(text, str) else ""
        norm = Normalized.of(raw)
        language, evident = self._language(raw, norm, locale_hint)
        provider = _PROVIDER.get((provider_opt_out_type or "").strip().upper())
        if provider is not None:
            # Twilio says STOP for STOPALL too; the text keeps the wider request.
            if provider == "opt_out" and "opt_out_all" in self._hits(raw, norm, after_opt_out):
                provider = "opt_out_all"
            return Classification(
                provider,  # type: ignore[arg-type]
                language,
                provider_opt_out_type,
                confidence="high",
                why=f"provider OptOutType {provider_opt_out_type}",
            )
        if not norm.tokens:
            return Classification("unknown", language, why="empty message")
        hits = self._hits(raw, norm, after_opt_out)
        for intent in _ORDER:
            if intent in hits:
                return _decided(hits[intent][0], language, evident=evident)
        if fuzzy := self._misspelt(norm):
            return _decided(fuzzy, language, evident=evident)
        if any(i in hits for i in ("promise", "plan", "pay")):
            return self._money(raw, norm, hits, language, zone, now, currency)
        for intent in ("call_me", "think_time"):
            if intent in hits:
                return _decided(hits[intent][0], language, evident=evident)
        if any(c.isdigit() for c in raw) or has_han(norm.compact):
            # No money word, yet "$20 a month" or "周五 500": a plan or a promise all the same.
            money = self._money(raw, norm, hits, language, zone, now, currency)
            if money.intent != "unknown":
                return money
        return Classification("unknown", language, why="no vocabulary term matched")

    def _hits(self, raw: str, norm: Normalized, after_opt_out: bool) -> dict[Intent, list[Hit]]:
        c, hits = self._c, list[Hit]()
        whole = norm.padded.strip()
        for intent, code in c.keywords.get(whole, ()):
            hits.append(Hit(intent, whole, "keyword", code))
        for intent, code in c.han_keywords.get(norm.compact, ()):
            hits.append(Hit(intent, norm.compact, "keyword", code))
        if after_opt_out and whole in c.after_opt_out:
            hits.append(Hit("opt_in", whole, "after_opt_out", c.after_opt_out[whole]))
        parts = segments(raw)
        if len(parts) > 1:
            for part in parts:
                for intent, code in c.keywords.get(part, ()):
                    if intent in OPT_OUT_INTENTS or intent == "help":
                        hits.append(Hit(intent, part, "segment", code))
        hits += self._word_hits(raw, norm)
        hits += [Hit(i, p.strip(), "phrase", code) for p, i, code in c.phrases if p in norm.padded]
        hits += self._revocations(norm)
        if has_han(norm.compact):
            hits += [Hit(i, p, "phrase", code) for p, i, code in c.han_phrases if p in norm.compact]
        grouped: dict[Intent, list[Hit]] = {}
        for hit in hits:
            grouped.setdefault(hit.intent, []).append(hit)
        return grouped

    def _word_hits(self, raw: str, norm: Normalized) -> Iterable[Hit]:
        c, tokens = self._c, norm.tokens
        short = len(tokens) <= c.short_words
        shouted: set[str] = set()
        if not short and not raw.isupper():
            shouted = {normalize(w) for w in _LETTERS.findall(raw) if len(w) >= 3 and w.isupper()}
        for index in range(len(tokens)):
            for size in (1, 2, 3):
                gram = tokens[index : index + size]
                if len(gram) < size or (gram not in c.words and gram not in c.anywhere):
                    continue
                text = " ".join(gram)
                if not (short or text in shouted or gram in c.anywhere):
                    continue
                if self._excused(tokens, index, size):
                    continue
                for intent, code in (*c.words.get(gram, ()), *c.anywhere.get(gram, ())):
                    yield Hit(intent, text, "word", code)

    def _revocations(self, norm: Normalized) -> list[Hit]:
        c = self._c
        if not any(self._cue(norm, cue, han) for cue, han in c.revocation_cues):
            return []
        return [
            Hit(intent, word, "revocation", code)
            for word, han, intent, code in c.revocation_objects
            if found(norm, word, han)
        ]

    def _cue(self, norm: Normalized, cue: str, han: bool) -> bool:
        """A revocation cue present and not negated ("don't stop the reminders")."""
        if han or not found(norm, cue, han):
            return found(norm, cue, han)
        words, tokens = tuple(cue.split()), norm.tokens
        return any(
            tokens[i : i + len(words)] == words and not self._excused(tokens, i, len(words))
            for i in range(len(tokens) - len(words) + 1)
        )

    def _excused(self, tokens: Sequence[str], index: int, size: int) -> bool:
        before = tokens[max(0, index - 3) : index]
        for cue in self._c.negations:
            n = len(cue)
            if any(tuple(before[i : i + n]) == cue for i in range(len(before) - n + 1)):
                return True
        for idiom in self._c.idioms:
            n = len(idiom)
            for start in range(max(0, index - n + 1), index + 1):
                if tuple(tokens[start : start + n]) == idiom and start + n >= index + size:
                    return True
        return False

    def _misspelt(self, norm: Normalized) -> Hit | None:
        c = self._c
        short = len(norm.tokens) <= c.short_words
        for index, token in enumerate(norm.tokens):
            if len(token) < 4 or token in c.known or (not short and len(token) < 8):
                continue
            for word in c.fuzzy:
                limit = 2 if len(word) >= 10 else 1
                if (
                    word[0] == token[0]
                    and within_one_edit(token, word, limit)
                    and not self._excused(norm.tokens, index, 1)
                ):
                    return Hit("opt_out", word, "misspelt", "und")
        return None

    def _money(
        self,
        raw: str,
        norm: Normalized,
        hits: dict[Intent, list[Hit]],
        language: str,
        zone: ZoneInfo,
        now: datetime | None,
        currency: str,
    ) -> Classification:
        langs = self.vocabulary.languages
        moment = now if now is not None else datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        today = moment.astimezone(zone).date()
        when = find_date(raw, norm.padded, norm.compact, langs, today)
        amount = find_amount(raw, langs, currency)
        periodic = any(
            (p in norm.compact) if han else (f" {p} " in norm.padded) for p, han in self._c.periodic
        )
        if periodic and amount is not None and "plan" not in hits:
            hits = {**hits, "plan": [Hit("plan", "instalments", "amount per period", language)]}
        cue = hits.get("promise") or hits.get("pay")
        if cue is None and when is not None and amount is not None:
            cue = [Hit("promise", "date and amount", "extracted", language)]
        # "pay today" is paying now, not a promise; a later date makes it one.
        promise = "promise" in hits or (cue is not None and when is not None and when > today)
        if "plan" in hits and (not promise or when is None or periodic):
            chosen = hits["plan"][0]
        elif promise and cue is not None:
            chosen = Hit("promise", cue[0].term, cue[0].kind, cue[0].language)
        elif "pay" in hits:
            chosen = hits["pay"][0]
        else:
            return Classification("unknown", language, why="no vocabulary term matched")
        return _decided(chosen, language, when, amount)

    def _language(self, raw: str, norm: Normalized, hint: str | None) -> tuple[str, bool]:
        """The message's language, and whether anything in it (or the hint) showed it: a
        lone "AYUDA" shows none, and then the matched term's language is the better guess."""
        hinted = (hint or "").replace("_", "-").split("-")[0].lower() or None
        if has_han(norm.compact) and self.vocabulary.language("zh"):
            return "zh", True
        scores = {
            code: sum(t in words for t in norm.tokens) for code, words in self._c.detect.items()
        }
        if "es" in scores and _SPANISH_MARKS.search(raw):
            scores["es"] += 2
        best = max(scores.values(), default=0)
        leaders = [code for code, score in scores.items() if score == best]
        if hinted in leaders or (best == 0 and hinted and self.vocabulary.language(hinted)):
            return hinted, True
        if best > 0:
            return leaders[0], True
        return self.vocabulary.languages[0].language, False


def _decided(
    hit: Hit,
    language: str,
    when: date | None = None,
    amount: Amount | None = None,
    *,
    evident: bool = True,
) -> Classification:
    return Classification(
        hit.intent,
        language if evident else hit.language,
        hit.term,
        when,
        amount,
        hit.confidence,
        f"{hit.kind} {hit.term!r} ({hit.language})",
    )


@cache
def default_classifier() -> Classifier:
    """The classifier over the shipped vocabulary, built on first use. (A caller with its
    own vocabulary builds one `Classifier` and keeps it: compiling takes ~70 ms.)"""
    return Classifier()


class ReplyFacts(TypedDict, total=False):
    """What `Classifier.classify` takes besides the text (its defaults apply to the rest)."""

    locale_hint: str | None
    tz: str
    now: datetime | None
    provider_opt_out_type: str | None
    after_opt_out: bool
    currency: str


def classify(
    text: object, *, vocabulary: Vocabulary | None = None, **facts: Unpack[ReplyFacts]
) -> Classification:
    """Classify one reply with the shipped vocabulary (or the one given)."""
    classifier = default_classifier() if vocabulary is None else Classifier(vocabulary)
    return classifier.classify(text, **facts)


def format_rows(results: Iterable[tuple[str, Classification]]) -> list[dict[str, Any]]:
    """One row per text for `dunning replies classify`: text, intent, date, amount."""
    return [
        {
            "text": text,
            "intent": result.intent,
            "date": result.date.isoformat() if result.date else None,
            "amount": result.amount.as_dict() if result.amount else None,
        }
        for text, result in results
    ]
