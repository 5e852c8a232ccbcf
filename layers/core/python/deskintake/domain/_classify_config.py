"""The classifier's operator-editable configuration (taxonomy.json) as a validated pydantic model."""

from __future__ import annotations

import json
import re
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deskintake.domain.model import Category, Priority

__all__ = ["ClassifierConfig", "CategorySpec", "Rule", "PriorityRule", "load_config", "RULE_LANGS"]

# Rules are grouped per language; "any" applies to every message.
RULE_LANGS = ("any", "id", "en", "zh")


def _category(value: str) -> Category:
    try:
        return Category(value)
    except ValueError:
        known = ", ".join(c.value for c in Category)
        raise ValueError(f"unknown category {value!r} (known: {known})") from None


def _compile(patterns: list[str]) -> list[re.Pattern[str]]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p, re.IGNORECASE | re.DOTALL))
        except re.error as exc:
            raise ValueError(f"invalid pattern {p!r}: {exc}") from None
    return out


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CategorySpec(_Frozen):
    """One category of the taxonomy and its default priority."""

    id: str
    priority: Priority
    description: str = ""

    @field_validator("id")
    @classmethod
    def _known(cls, v: str) -> str:
        return _category(v).value


class Rule(_Frozen):
    """A high-precision rule: every `all` pattern matches and no `none` pattern does."""

    name: str
    category: str
    all: list[str] = Field(min_length=1)
    none: list[str] = Field(default_factory=list)
    priority: Priority | None = None

    @field_validator("category")
    @classmethod
    def _known(cls, v: str) -> str:
        return _category(v).value

    @field_validator("all", "none")
    @classmethod
    def _valid_regex(cls, v: list[str]) -> list[str]:
        _compile(v)
        return v

    @cached_property
    def compiled(self) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
        return _compile(self.all), _compile(self.none)

    def matches(self, text: str) -> bool:
        """True when this rule fires on the (lower-cased) message text."""
        must, veto = self.compiled
        return all(p.search(text) for p in must) and not any(p.search(text) for p in veto)


class PriorityRule(_Frozen):
    """Sets the priority of a category when any pattern matches and no `none` pattern does."""

    name: str
    categories: list[str]
    priority: Priority
    any: list[str] = Field(min_length=1)
    none: list[str] = Field(default_factory=list)

    @field_validator("categories")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        return [_category(c).value for c in v]

    @field_validator("any", "none")
    @classmethod
    def _valid_regex(cls, v: list[str]) -> list[str]:
        _compile(v)
        return v

    @cached_property
    def compiled(self) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
        return _compile(self.any), _compile(self.none)

    def matches(self, text: str) -> bool:
        """True when this priority rule applies to the (lower-cased) message text."""
        hit, veto = self.compiled
        return any(p.search(text) for p in hit) and not any(p.search(text) for p in veto)


class ClassifierConfig(_Frozen):
    """Taxonomy, priorities, thresholds and rules: everything an operator may change."""

    version: str = ""
    confidence_threshold: float = Field(0.5, ge=0.0, le=1.0)
    rule_confidence: float = Field(0.97, ge=0.0, le=1.0)
    hint_weight: float = Field(1.5, ge=0.0)
    spam_verdicts: list[str] = Field(default_factory=lambda: ["FAIL"])
    categories: list[CategorySpec]
    hint_aliases: dict[str, str] = Field(default_factory=dict)
    rules: dict[str, list[Rule]] = Field(default_factory=dict)
    priority_rules: list[PriorityRule] = Field(default_factory=list)

    @field_validator("hint_aliases")
    @classmethod
    def _aliases_known(cls, v: dict[str, str]) -> dict[str, str]:
        return {k.lower(): _category(c).value for k, c in v.items()}

    @field_validator("rules")
    @classmethod
    def _rule_langs(cls, v: dict[str, list[Rule]]) -> dict[str, list[Rule]]:
        unknown = set(v) - set(RULE_LANGS)
        if unknown:
            raise ValueError(f"unknown rule language(s) {sorted(unknown)}; use {RULE_LANGS}")
        return v

    @model_validator(mode="after")
    def _complete_taxonomy(self) -> ClassifierConfig:
        ids = [c.id for c in self.categories]
        dupes = {i for i in ids if ids.count(i) > 1}
        missing = {c.value for c in Category} - set(ids)
        if dupes or missing:
            raise ValueError(f"categories must list each id once: duplicated {sorted(dupes)}, missing {sorted(missing)}")
        return self

    @cached_property
    def default_priority(self) -> dict[str, Priority]:
        return {c.id: c.priority for c in self.categories}

    def rules_for(self, lang: str) -> list[Rule]:
        """Rules to try for a message in `lang`, in order: shared ones first, then the language's.

        Indonesian customers mix in English, so English rules also run on Indonesian text.
        """
        order = ["any", lang] + (["en"] if lang == "id" else [])
        return [r for key in order for r in self.rules.get(key, [])]


def load_config(path: str | Path | None = None) -> ClassifierConfig:
    """Load and validate taxonomy.json (the packaged default when `path` is None)."""
    if path is None:
        raw = resources.files("deskintake").joinpath("config", "taxonomy.json").read_text("utf-8")
    else:
        raw = Path(path).read_text("utf-8")
    data: Any = json.loads(raw)
    return ClassifierConfig.model_validate(data)
