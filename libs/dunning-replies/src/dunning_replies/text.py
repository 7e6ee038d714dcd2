"""The one text normalisation that a reply and the vocabulary both go through.

NFKC (full-width letters and digits become ASCII), case-folded, accents stripped (NFKD,
combining marks dropped), punctuation turned into spaces; symbols such as emoji are kept
as tokens of their own so the vocabulary can name them ("🛑"). Latin-script phrases
match on whole words (both sides padded with one space); Han phrases match as
substrings of the text with the spaces removed, since Chinese has no spaces.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Emoji and other pictographs: kept as their own tokens; their modifiers and joiners dropped.
_SYMBOL = re.compile(r"([\u2190-\u2bff\U0001f000-\U0001faff])")
_DROP = re.compile(r"[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_NON_WORD = re.compile(r"[^\w\u2190-\u2bff\U0001f000-\U0001faff]+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SEGMENT = re.compile(r"[.!?;,:\n\r…。！？，；：、]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean(text: str) -> str:
    """Text made safe to process: lone surrogates dropped, NFKC applied."""
    if not text.isascii():
        text = _SURROGATE.sub("", text)
        text = unicodedata.normalize("NFKC", text)
    return text


def normalize(text: str) -> str:
    """Case-folded, accents and punctuation removed, emoji spaced; single spaces."""
    text = clean(text)
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
        text = _SYMBOL.sub(r" \1 ", _DROP.sub("", text))
    return " ".join(_NON_WORD.sub(" ", text.casefold().replace("_", " ")).split())


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def segments(text: str) -> list[str]:
    """The message's sentences and clauses, each normalised ("Stop. I'll pay" → 2)."""
    return [n for part in _SEGMENT.split(clean(text)) if (n := normalize(part))]


@dataclass(frozen=True, slots=True)
class Normalized:
    """One message in the forms matching needs."""

    padded: str  # " words of the message "
    compact: str  # the same without spaces, for Han substrings
    tokens: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Normalized:
        normal = normalize(text)
        return cls(f" {normal} ", normal.replace(" ", ""), tuple(normal.split()))


def within_one_edit(a: str, b: str, limit: int) -> bool:
    """Whether a and b are at most `limit` edits apart (insert, delete, substitute, swap)."""
    if abs(len(a) - len(b)) > limit:
        return False
    # Optimal string alignment distance; words are short, so the full table is cheap.
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return False
        prev2, prev = prev, row
    return prev[-1] <= limit
