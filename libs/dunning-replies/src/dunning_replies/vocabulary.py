"""The vocabulary: per language, which words and phrases mean which intent.

One YAML file per language in `dunning_replies/vocabulary/` (en, es, zh, plus the gate's
older fr and pt opt-out words). Each names, per intent:

- `keywords`: the whole message means the intent ("STOP", "退订");
- `words`: also when the message is short (<= `short_message_words` words), is a sentence
  of its own ("Stop. I'll pay Friday"), or is written in capitals inside a lower-case
  message ("I said STOP") — unless a negation cue precedes it ("don't stop") or it is
  part of a `not_opt_out` idiom ("stop by");
- `anywhere`: the strong words ("stop", "unsubscribe") that count wherever they stand,
  with the same two excuses ("You can stop now, I paid" opts out);
- `phrases`: anywhere in a message of any length ("leave me alone"); Han phrases as
  substrings, Latin ones on whole words;
- `after_opt_out` (opt_in only): whole-message replies that opt back in only right after
  an opt-out ("YES").

Beside the intents, `revocation` pairs cues with channel words: a message holding one of
each opts out ("I don't want these messages anymore", "no more sms", "不想收到短信").

Loaded and validated once by `load_vocabulary`; a mistake is reported with its file,
line and field. An operator can point `load_vocabulary` at a modified copy of the folder
and check it with `dunning replies classify` before it ships.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Final, Literal, get_args

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from dunning_replies.text import normalize

Intent = Literal[
    "opt_out",
    "opt_out_all",
    "opt_in",
    "help",
    "pay",
    "plan",
    "promise",
    "dispute",
    "bill_not_received",
    "wrong_number",
    "call_me",
    "think_time",
    "unknown",
]
INTENTS: Final[tuple[Intent, ...]] = get_args(Intent)
OPT_OUT_INTENTS: Final[frozenset[Intent]] = frozenset({"opt_out", "opt_out_all"})
DEFAULT_DIR: Final = Path(__file__).parent / "vocabulary"


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used; the message names file, line and field."""


def _normal(value: str) -> str:
    normal = normalize(value)
    if not normal:
        raise ValueError(f"{value!r} is empty once punctuation is removed")
    return normal


Term = Annotated[str, AfterValidator(_normal)]
"""A word or phrase, stored normalised ("No más!" → "no mas")."""


class _Loader(yaml.SafeLoader):
    """YAML without YAML 1.1 booleans: "no", "yes", "y", "on" are words here, not flags."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IntentWords(_Model):
    keywords: tuple[Term, ...] = ()
    words: tuple[Term, ...] = ()
    anywhere: tuple[Term, ...] = ()
    phrases: tuple[Term, ...] = ()
    after_opt_out: tuple[Term, ...] = ()


class DateWords(_Model):
    relative: dict[Term, Annotated[int, Field(ge=0, le=31)]] = Field(default_factory=dict)
    weekdays: dict[Term, Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=dict)
    month_end: tuple[Term, ...] = ()  # "end of the month": the month's last day
    next_week: tuple[Term, ...] = ()  # prefixes: "下周" + weekday = that day of next week
    order: Literal["MDY", "DMY", "YMD"] = "MDY"  # numeric dates: 1/15 or 15/1


class Revocation(_Model):
    """A cue ("no more", "不要") and a channel word ("texts", "短信") in one message opt out."""

    cues: tuple[Term, ...] = ()
    objects: dict[Term, Literal["opt_out", "opt_out_all"]] = Field(default_factory=dict)


class LanguageVocabulary(_Model):
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
    script: Literal["latin", "han"] = "latin"
    detect: tuple[Term, ...] = ()  # words that mark a message as this language
    negations: tuple[Term, ...] = ()
    not_opt_out: tuple[Term, ...] = ()
    short_message_words: Annotated[int, Field(ge=1, le=20)] = 4
    periodic: tuple[Term, ...] = ()  # "a month": instalments, so a plan even with a date
    pay_verbs: tuple[Term, ...] = ()  # a bare number right after one is an amount
    currency_words: dict[Term, str | None] = Field(default_factory=dict)  # None: account's
    intents: dict[Intent, IntentWords] = Field(default_factory=dict)
    revocation: Revocation = Revocation()
    dates: DateWords = DateWords()


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Every language's vocabulary, in the order given (the first is the fallback)."""

    languages: tuple[LanguageVocabulary, ...]
    source: str

    def language(self, code: str) -> LanguageVocabulary | None:
        return next((v for v in self.languages if v.language == code), None)


def _line_of(document: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location (or its parent's)."""
    node, line = document, None
    for key in loc:
        if key == "[key]":  # the mapping key itself was refused: the key's line
            return line
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            line = pair[0].start_mark.line + 1 if pair else line
            node = pair[1] if pair else None
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
    return node.start_mark.line + 1 if node is not None else line


def _load_file(path: Path) -> LanguageVocabulary:
    try:
        raw_text = path.read_text(encoding="utf-8")
        data = yaml.load(raw_text, Loader=_Loader)  # a SafeLoader subclass
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise VocabularyError(f"{path}: cannot read: {error}") from error
    try:
        return LanguageVocabulary.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = first["loc"]
        line = _line_of(yaml.compose(raw_text, Loader=_Loader), loc)
        field = ".".join(str(p) for p in loc if p != "[key]") or "(document)"
        raise VocabularyError(
            f"{path}:{line or 1}: {field}: {first['msg']}"
            + (f" ({error.error_count()} errors in all)" if error.error_count() > 1 else "")
        ) from error


def load_vocabulary(path: Path | str | None = None) -> Vocabulary:
    """The vocabulary in a folder of `<language>.yaml` files (or one file); the shipped
    one when `path` is None. English comes first: the fallback language."""
    if path is None:
        return _default()
    return _load(Path(path))


@cache
def _default() -> Vocabulary:
    return _load(DEFAULT_DIR)


def _load(path: Path) -> Vocabulary:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise VocabularyError(f"{path}: no vocabulary files (*.yaml)")
    languages = sorted((_load_file(f) for f in files), key=lambda v: v.language != "en")
    seen: set[str] = set()
    for vocabulary in languages:
        if vocabulary.language in seen:
            raise VocabularyError(f"{path}: language {vocabulary.language!r} defined twice")
        seen.add(vocabulary.language)
    return Vocabulary(tuple(languages), str(path))
