"""Classify a customer message: ordered high-precision rules, then a compact linear model.

The rules (taxonomy.json, per language) catch what must never be missed: card fraud, account
security (unsolicited OTPs, impersonation, phishing) and online-gambling or vendor spam. Every
other message is scored by a multinomial logistic regression over words, word pairs and
character n-grams, trained offline (training/) and shipped as JSON that pure Python scores.
"""

from __future__ import annotations

import json
import math
import os
import unicodedata
import zlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from deskintake.domain._classify_config import ClassifierConfig, load_config
from deskintake.domain._features import MAX_CHARS, feature_words
from deskintake.domain.entities import extract_entities
from deskintake.domain.greetings import GREETING_RULE, is_greeting_only
from deskintake.domain.language import detect_language
from deskintake.domain.model import Category, Classification, Lang, Priority

__all__ = [
    "ClassifierConfig",
    "BUCKETS",
    "LinearModel",
    "bucket_of",
    "classify",
    "default_config",
    "default_model",
    "load_config",
    "load_model",
    "pack_weights",
]


# Format 2 spreads the weights over this many buckets by CRC-32 of the feature, each one string
# "feature|weights~feature|weights...": a cold start parses one JSON document of a few thousand
# strings and decodes only the buckets its message touches, instead of building a 23k-entry dict
# up front. The separators need no JSON escaping (escapes slow json.loads about 3x) and never
# occur in features, which are word characters, spaces and "<", ">", "'".
BUCKETS = 2048
_ENTRY, _FIELD = "~", "|"


def bucket_of(feature: str, buckets: int = BUCKETS) -> int:
    """The bucket a feature's weights live in (stable across processes, unlike hash())."""
    return zlib.crc32(feature.encode("utf-8")) % buckets


def pack_weights(weights: dict[str, str], buckets: int = BUCKETS) -> list[str]:
    """Spread `feature -> "class:weight ..."` over `buckets` strings (the format-2 layout)."""
    lines: list[list[str]] = [[] for _ in range(buckets)]
    for feature, encoded in weights.items():
        if _ENTRY in feature or _FIELD in feature or _ENTRY in encoded or _FIELD in encoded:
            raise ValueError(f"feature {feature!r} or its weights hold {_ENTRY!r} or {_FIELD!r}")
        lines[bucket_of(feature, buckets)].append(f"{feature}{_FIELD}{encoded}")
    return [_ENTRY.join(b) for b in lines]


@dataclass
class LinearModel:
    """A multinomial linear model over sparse text features, with temperature calibration."""

    version: str
    classes: tuple[str, ...]
    intercept: tuple[float, ...]
    temperature: float
    # feature -> "class:weight class:weight ..."; format 2 fills it bucket by bucket on demand.
    encoded: dict[str, str]
    # Format 2 only: the packed buckets not yet decoded into `encoded` (None once decoded).
    packed: list[str | None] = field(default_factory=list, repr=False)
    _decoded: dict[str, tuple[tuple[int, float], ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearModel:
        """Build a model from the exported JSON document (see training/train.py export)."""
        classes = tuple(data["classes"])
        for c in classes:
            Category(c)  # a model trained on another taxonomy must fail loudly
        fmt = int(data.get("format", 1))
        if fmt not in (1, 2):
            raise ValueError(f"unknown model format {fmt}")
        weights = data["weights"]
        return cls(
            version=str(data["version"]),
            classes=classes,
            intercept=tuple(float(x) for x in data["intercept"]),
            temperature=float(data.get("temperature", 1.0)),
            encoded=dict(weights) if fmt == 1 else {},
            packed=list(weights) if fmt == 2 else [],
        )

    def _encoded(self, feature: str) -> str | None:
        raw = self.encoded.get(feature)
        if raw is None and self.packed:
            b = bucket_of(feature, len(self.packed))
            text = self.packed[b]
            if text is None:
                return None  # bucket already decoded: the feature is not in the model
            if text:
                # Alternating feature, weights: split and paired in C, no per-line Python loop.
                parts = text.replace(_ENTRY, _FIELD).split(_FIELD)
                self.encoded.update(zip(parts[::2], parts[1::2], strict=True))
            # Marked only once filled: a concurrent reader (the local gateway's threads) at worst
            # decodes the same bucket twice, never misses a feature.
            self.packed[b] = None
            raw = self.encoded.get(feature)
        return raw

    def _weights(self, feature: str) -> tuple[tuple[int, float], ...] | None:
        hit = self._decoded.get(feature)
        if hit is None:
            raw = self._encoded(feature)
            if raw is None:
                return None  # unknown features are not cached: their number is unbounded
            hit = tuple((int(k), float(w)) for k, _, w in (p.partition(":") for p in raw.split()))
            self._decoded[feature] = hit
        return hit

    def n_features(self) -> int:
        """How many features carry weights."""
        rest = sum(t.count(_ENTRY) + 1 for t in self.packed if t)
        return len(self.encoded) + rest

    def logits(
        self, features: list[str]
    ) -> tuple[list[float], dict[str, tuple[tuple[int, float], ...]]]:
        """Raw class scores and the weights of each known feature of the message."""
        scores = list(self.intercept)
        # Every feature of the message counts in the norm, known or not, as in training.
        value = 1.0 / math.sqrt(len(features)) if features else 0.0
        used: dict[str, tuple[tuple[int, float], ...]] = {}
        for f in features:
            ws = self._weights(f)
            if ws:
                used[f] = ws
                for k, w in ws:
                    scores[k] += w * value
        return scores, used

    def probabilities(self, logits: list[float]) -> list[float]:
        """Softmax of temperature-scaled logits."""
        t = self.temperature or 1.0
        top = max(logits)
        exps = [math.exp((x - top) / t) for x in logits]
        total = sum(exps)
        return [e / total for e in exps]


def load_model(text: str) -> LinearModel:
    """Parse an exported model document."""
    return LinearModel.from_json(json.loads(text))


def _packaged(*parts: str) -> bytes:
    # A plain file read: importlib.resources costs ~2 ms of imports at cold start, and text-mode
    # reading ~3 ms of newline handling; json.loads decodes UTF-8 bytes itself.
    with open(os.path.join(os.path.dirname(os.path.dirname(__file__)), *parts), "rb") as f:
        return f.read()


@cache
def default_model() -> LinearModel:
    """The packaged model, loaded once per process on first use."""
    return LinearModel.from_json(json.loads(_packaged("model", "classifier.json")))


@cache
def default_config() -> ClassifierConfig:
    """The packaged taxonomy.json, loaded once per process on first use."""
    return load_config()


def _top_words(
    words: dict[str, str], used: dict[str, tuple[tuple[int, float], ...]], k: int, scale: float
) -> list[str]:
    """The words whose features pushed hardest towards class `k`, contributions summed per word."""
    per_word: dict[str, float] = {}
    for feature, weights in used.items():
        for kk, w in weights:
            if kk == k:
                word = words[feature]
                per_word[word] = per_word.get(word, 0.0) + w * scale
    top = sorted(per_word.items(), key=lambda kv: kv[1], reverse=True)[:4]
    return [f"'{w}' ({v:+.2f})" for w, v in top if v > 0]


def _resolve_hint(hint: str | None, config: ClassifierConfig) -> str | None:
    if not hint:
        return None
    key = hint.strip().lower()
    if key in Category._value2member_map_:
        return key
    return config.hint_aliases.get(key)


def classify(
    subject: str,
    text: str,
    *,
    channel: str = "email",
    lang: str | None = None,
    hint: str | None = None,
    spam_verdict: str | None = None,
    config: ClassifierConfig | None = None,
    model: LinearModel | None = None,
) -> Classification:
    """Classify one message into a category with priority, calibrated confidence and reasons."""
    del (
        channel
    )  # accepted for the interface; the current model reads the same text on every channel
    cfg = config or default_config()
    mdl = model or default_model()
    body = f"{subject}\n{text}" if subject else text
    language = lang if lang in ("id", "zh", "en") else detect_language(body)
    rule_text = unicodedata.normalize("NFKC", body[: 2 * MAX_CHARS]).lower()
    entities = extract_entities(body, language)

    category: str | None = None
    priority: Priority | None = None
    confidence = cfg.rule_confidence
    explanation: list[str] = []

    if spam_verdict and spam_verdict.upper() in {v.upper() for v in cfg.spam_verdicts}:
        category = Category.SPAM.value
        explanation.append(f"rule: SES spam verdict {spam_verdict.upper()} → spam")
    elif is_greeting_only(body):
        category = Category.GENERAL_INQUIRY.value
        explanation.append(f"rule: {GREETING_RULE} → {category}")
    else:
        for rule in cfg.rules_for(language):
            if rule.matches(rule_text):
                category, priority = rule.category, rule.priority
                explanation.append(f"rule: {rule.name} → {rule.category}")
                break

    hint_category = _resolve_hint(hint, cfg)
    if category is None:
        words = feature_words(subject, text)
        feats = list(words)
        logits, used = mdl.logits(feats)
        if hint_category in mdl.classes:
            # The pre-chat choice is a prior, not a verdict: it tips close calls only.
            logits[mdl.classes.index(hint_category)] += cfg.hint_weight * mdl.temperature
        probs = mdl.probabilities(logits)
        ranked = sorted(range(len(probs)), key=probs.__getitem__, reverse=True)
        best = ranked[0]
        if mdl.classes[best] == Category.SPAM.value and probs[best] < cfg.spam_min_confidence:
            best = ranked[1]
        category, confidence = mdl.classes[best], probs[best]
        shown = _top_words(words, used, best, 1.0 / math.sqrt(len(feats)) if feats else 0.0)
        explanation.append(
            "features: " + (", ".join(shown) if shown else "none known; class prior")
        )
        if best != ranked[0]:
            explanation.append(
                f"spam only at {probs[ranked[0]]:.2f} < {cfg.spam_min_confidence:g}: next best kept"
            )
        if hint_category:
            explanation.append(f"hint: {hint_category} (prior +{cfg.hint_weight:g})")

    if priority is None:
        priority = cfg.default_priority[category]
    for prule in cfg.priority_rules:
        if category in prule.categories and prule.matches(rule_text):
            priority = prule.priority
            explanation.append(f"priority: {prule.name} → {prule.priority.value}")
            break
    if category == Category.SPAM.value:
        priority = Priority.NONE

    return Classification(
        category=Category(category),
        priority=priority,
        confidence=round(min(1.0, max(0.0, confidence)), 4),
        lang=Lang(language),
        needs_triage=confidence < cfg.confidence_threshold,
        explanation=explanation,
        entities=entities,
        model_version=f"{mdl.version}+{cfg.version}" if cfg.version else mdl.version,
    )
