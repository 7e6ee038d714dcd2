"""The one text normalisation that policy phrases and vetted text both go through.

Case-folded, accents stripped (NFKD, combining marks dropped), every run of punctuation
or whitespace turned into one space. "No más!!" and "no mas" normalise alike, so a
phrase list written plainly matches what consumers actually type. Matching is on whole
words: text and phrases are both stored with one space at each end, so a phrase matches
exactly when `phrase in text`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_NON_WORD = re.compile(r"[\W_]+")
# ASCII fast path (most messages): str.translate with a 1:1 ASCII table is ~3x the regex.
_ASCII_PUNCTUATION = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})


def normalize(text: str) -> str:
    """Case-fold, strip accents and punctuation; words separated by single spaces."""
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_PUNCTUATION).split())
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return _NON_WORD.sub(" ", text.casefold()).strip()


def padded(text: str) -> str:
    """Normalised text with a space at each end: the form both text and phrases take."""
    return f" {normalize(text)} "


def contains(padded_text: str, padded_phrase: str) -> bool:
    """Whether the phrase occurs as whole words in the text (both `padded`)."""
    return padded_phrase in padded_text


def _phrase(value: str) -> str:
    normal = normalize(value)
    if not normal:
        raise ValueError(f"phrase {value!r} is empty once punctuation is removed")
    return f" {normal} "


Phrase = Annotated[str, AfterValidator(_phrase)]
"""A policy phrase, stored normalised and `padded` (" no mas ")."""
