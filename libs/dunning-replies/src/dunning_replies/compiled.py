"""The vocabulary laid out for matching: term tables built once per Vocabulary, and the
hits a message produces (which intent, which term, how it matched)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from dunning_replies.text import Normalized, has_han
from dunning_replies.vocabulary import OPT_OUT_INTENTS, Intent, LanguageVocabulary, Vocabulary

Confidence = Literal["high", "medium", "low"]


@dataclass(frozen=True, slots=True)
class Hit:
    intent: Intent
    term: str
    kind: str  # keyword, segment, word, phrase, revocation, misspelt, after_opt_out
    language: str

    @property
    def confidence(self) -> Confidence:
        if self.kind in ("keyword", "segment", "after_opt_out"):
            return "high"
        return "low" if self.kind == "misspelt" else "medium"


@dataclass
class Compiled:
    """The vocabulary laid out for fast matching; built once per Vocabulary."""

    keywords: dict[str, list[tuple[Intent, str]]] = field(default_factory=dict)
    han_keywords: dict[str, list[tuple[Intent, str]]] = field(default_factory=dict)
    after_opt_out: dict[str, str] = field(default_factory=dict)
    words: dict[tuple[str, ...], list[tuple[Intent, str]]] = field(default_factory=dict)
    anywhere: dict[tuple[str, ...], list[tuple[Intent, str]]] = field(default_factory=dict)
    phrases: list[tuple[str, Intent, str]] = field(default_factory=list)
    han_phrases: list[tuple[str, Intent, str]] = field(default_factory=list)
    negations: list[tuple[str, ...]] = field(default_factory=list)
    idioms: list[tuple[str, ...]] = field(default_factory=list)
    known: frozenset[str] = frozenset()  # every token of the vocabulary: not misspellings
    periodic: list[tuple[str, bool]] = field(default_factory=list)
    revocation_cues: list[tuple[str, bool]] = field(default_factory=list)
    revocation_objects: list[tuple[str, bool, Intent, str]] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    short_words: int = 4
    detect: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, vocabulary: Vocabulary) -> Compiled:
        built = cls()
        built.short_words = min((v.short_message_words for v in vocabulary.languages), default=4)
        for lang in vocabulary.languages:
            code, han = lang.language, lang.script == "han"
            built.detect[code] = frozenset(lang.detect)
            built.negations += [tuple(n.split()) for n in lang.negations if not has_han(n)]
            built.idioms += [tuple(i.split()) for i in lang.not_opt_out]
            built.periodic += [(p, has_han(p)) for p in lang.periodic]
            built.revocation_cues += [(cue, has_han(cue)) for cue in lang.revocation.cues]
            built.revocation_objects += [
                (word, has_han(word), intent, code)
                for word, intent in lang.revocation.objects.items()
            ]
            for intent, terms in lang.intents.items():
                for keyword in terms.keywords:
                    built.keywords.setdefault(keyword, []).append((intent, code))
                    if han:
                        built.han_keywords.setdefault(keyword.replace(" ", ""), []).append(
                            (intent, code)
                        )
                for reply in terms.after_opt_out:
                    built.after_opt_out.setdefault(reply, code)
                for phrase in (*terms.phrases, *(terms.words if han else ())):
                    if has_han(phrase):
                        built.han_phrases.append((phrase.replace(" ", ""), intent, code))
                    else:
                        built.phrases.append((f" {phrase} ", intent, code))
                if not han:
                    for word in terms.words:
                        built.words.setdefault(tuple(word.split()), []).append((intent, code))
                    for word in terms.anywhere:
                        built.anywhere.setdefault(tuple(word.split()), []).append((intent, code))
                if intent in OPT_OUT_INTENTS:
                    built.fuzzy += [
                        t for t in (*terms.keywords, *terms.words) if " " not in t and len(t) >= 4
                    ]
        built.known = frozenset(
            token
            for lang in vocabulary.languages
            for term in all_terms(lang)
            for token in term.split()
        )
        built.fuzzy = sorted(set(built.fuzzy))
        return built


def found(norm: Normalized, term: str, han: bool) -> bool:
    return term.replace(" ", "") in norm.compact if han else f" {term} " in norm.padded


def all_terms(lang: LanguageVocabulary) -> Iterable[str]:
    yield from (*lang.detect, *lang.negations, *lang.not_opt_out, *lang.periodic, *lang.pay_verbs)
    yield from (*lang.revocation.cues, *lang.revocation.objects)
    for terms in lang.intents.values():
        yield from (*terms.keywords, *terms.words, *terms.anywhere, *terms.phrases)
        yield from terms.after_opt_out
