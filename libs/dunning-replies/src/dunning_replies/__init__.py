"""The consumer's replies, read one way everywhere: `classify(text)` → intent, language,
date and amount. Used by the sms and email workers, the gate's what-if and the CLI.

Pure: the only I/O is reading the vocabulary files (once, on first use).
"""

from dunning_replies.classifier import (
    Classification,
    Classifier,
    classify,
    default_classifier,
    format_rows,
)
from dunning_replies.extract import Amount
from dunning_replies.vocabulary import (
    INTENTS,
    OPT_OUT_INTENTS,
    Intent,
    Vocabulary,
    VocabularyError,
    load_vocabulary,
)

__all__ = [
    "INTENTS",
    "OPT_OUT_INTENTS",
    "Amount",
    "Classification",
    "Classifier",
    "Intent",
    "Vocabulary",
    "VocabularyError",
    "classify",
    "default_classifier",
    "format_rows",
    "load_vocabulary",
]
