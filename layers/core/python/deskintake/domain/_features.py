"""Text features for the linear classifier: the one definition shared by training and scoring."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from itertools import groupby

from deskintake.domain.language import is_han

__all__ = ["normalize", "extract_features", "feature_words", "MAX_CHARS"]

# Long emails say what they are about early; the tail is signatures and disclaimers.
MAX_CHARS = 2000

_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|id|co|io|xyz|site|vip|cc|me)\b\S*"
)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
# Masked card numbers ("411111******1111", "4111 11xx xxxx 1111") and long digit runs.
_CARD = re.compile(r"\b\d{4,6}[ -]?[*xX•]{2,}[\d*xX• -]*\d{4}\b")
_DIGITS = re.compile(r"\d")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def normalize(text: str) -> str:
    """Lower-case, width-fold and replace URLs, addresses, card numbers and digits by placeholders."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower()
    text = _URL.sub(" zzurl ", text)
    text = _EMAIL.sub(" zzemail ", text)
    text = _CARD.sub(" zzcard ", text)
    # All digits read alike: "50rb" and "20rb", order 12345 and 67890 are the same signal.
    return _DIGITS.sub("0", text)


def _tokens(norm: str) -> Iterator[tuple[bool, str]]:
    """Word tokens, with runs of Han characters split from Latin letters: (is_han, token)."""
    for tok in _TOKEN.findall(norm):
        if max(tok) < "\u3400":  # no Han character: the common case, skip the per-char split
            yield False, tok
            continue
        for han, run in groupby(tok, is_han):
            yield han, "".join(run)


def extract_features(subject: str, text: str) -> list[str]:
    """Return the distinct features of a message: words, word pairs and character n-grams."""
    return list(feature_words(subject, text))


def feature_words(subject: str, text: str) -> dict[str, str]:
    """Map each feature of a message to the word (or word pair) it came from, for explanations."""
    norm = normalize(f"{subject}\n{text}" if subject else text)
    feats: dict[str, str] = {}
    prev = ""
    for han, tok in _tokens(norm):
        if han:
            # Chinese has no spaces: character 1-3 grams stand in for words, no segmenter needed.
            for n in (1, 2, 3):
                for i in range(len(tok) - n + 1):
                    gram = tok[i : i + n]
                    feats.setdefault(gram, gram)
            prev = ""
            continue
        feats.setdefault("w " + tok, tok)
        if prev:
            feats.setdefault(f"b {prev} {tok}", f"{prev} {tok}")
        prev = tok
        if len(tok) > 3:
            # Character n-grams inside a word catch slang, typos and affixes ("udh", "sdh", "blm").
            padded = f"<{tok}>"
            for n in (3, 4):
                for i in range(len(padded) - n + 1):
                    feats.setdefault("c " + padded[i : i + n], tok)
    return feats
