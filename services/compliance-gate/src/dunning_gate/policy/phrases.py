"""The one text normalisation that policy phrases and vetted text both go through.

Case-folded, accents stripped (NFKD, combining marks dropped), every run of punctuation
or whitespace turned into one space. "No más!!" and "no mas" normalise alike, so a
phrase list written plainly matches what consumers actually type. Matching is on whole
words: text and phrases are both stored with one space at each end, so a phrase matches
exactly when `phrase in text`. Scripts written without spaces between words (Chinese,
Japanese) have no word boundaries to pad: a phrase in them is stored unpadded and matches
as a substring ("起诉" in "不会就此起诉您").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_NON_WORD = re.compile(r"[\W_]+")
# CJK ideographs, kana and Hangul syllables: no spaces between words in these scripts.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# ASCII fast path (most messages): one bytes.translate lower-cases and blanks punctuation,
# ~5x faster than the regex.
_ASCII_TABLE = bytes(
    (ord(chr(b).lower()) if chr(b).isalnum() else 32) if b < 128 else b for b in range(256)
)


def normalize(text: str) -> str:
    """Case-fold, strip accents and punctuation; words separated by single spaces."""
    if text.isascii():
        return b" ".join(text.encode("ascii").translate(_ASCII_TABLE).split()).decode("ascii")
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
    if _UNSPACED.search(normal):
        return normal
    return f" {normal} "


Phrase = Annotated[str, AfterValidator(_phrase)]
"""A policy phrase, stored normalised and `padded` (" no mas "); unpadded in unspaced scripts."""
