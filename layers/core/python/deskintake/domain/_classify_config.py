"""The classifier's operator-editable configuration (taxonomy.json) as a validated pydantic model.

One pydantic model validates the whole document; categories and rules inside it are small plain
classes built by its validators. Each extra pydantic class costs about 2 ms of schema building
at import, which a Lambda pays on every cold start, so the nested parts are not models.
"""

# No `from __future__ import annotations` here: pydantic would eval() each string annotation of
# ClassifierConfig at import (11 compile() calls, ~5 ms of a cold start); real ones cost nothing.

import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from deskintake.domain.model import Category, Priority

__all__ = ["ClassifierConfig", "CategorySpec", "Rule", "PriorityRule", "load_config", "RULE_LANGS"]

# Rules are grouped per language; "any" applies to every message.
RULE_LANGS = ("any", "id", "en", "zh")


def _category(value: Any) -> str:
    try:
        return Category(value).value
    except ValueError:
        known = ", ".join(c.value for c in Category)
        raise ValueError(f"unknown category {value!r} (known: {known})") from None


def _priority(value: Any, where: str) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        known = ", ".join(p.value for p in Priority)
        raise ValueError(f"{where}: unknown priority {value!r} (known: {known})") from None


def _compile(patterns: list[str], where: str) -> list[re.Pattern[str]]:
    # No IGNORECASE: rules see lower-cased text, and case folding makes compiling far slower.
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p, re.DOTALL))
        except re.error as exc:
            raise ValueError(f"{where}: invalid pattern {p!r}: {exc}") from None
    return out


@functools.cache
def _pattern(p: str) -> re.Pattern[str]:
    # One pattern compiled on first use (packaged rules): matching stops at the first pattern that
    # fails, so most of a rule's other patterns are never compiled in a short-lived Lambda.
    return _compile([p], "rule")[0]


def _search_all(patterns: list[str], text: str) -> bool:
    return all(_pattern(p).search(text) for p in patterns)


def _search_any(patterns: list[str], text: str) -> bool:
    return any(_pattern(p).search(text) for p in patterns)


def _strings(raw: dict[str, Any], key: str, where: str, *, required: bool = False) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {key!r} must be a list of strings")
    if required and not value:
        raise ValueError(f"{where}: {key!r} needs at least one pattern")
    return value


def _check_keys(raw: Any, allowed: set[str], required: set[str], where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object, got {type(raw).__name__}")
    if unknown := set(raw) - allowed:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
    if missing := required - set(raw):
        raise ValueError(f"{where}: missing field(s) {sorted(missing)}")
    return raw


class CategorySpec:
    """One category of the taxonomy and its default priority."""

    __slots__ = ("id", "priority", "description")

    def __init__(self, raw: Any) -> None:
        raw = _check_keys(raw, {"id", "priority", "description"}, {"id", "priority"}, "category")
        self.id = _category(raw["id"])
        self.priority = _priority(raw["priority"], f"category {self.id}")
        self.description = str(raw.get("description", ""))

    def dump(self) -> dict[str, Any]:
        return {"id": self.id, "priority": self.priority.value, "description": self.description}


class Rule:
    """A high-precision rule: every `all` pattern matches and no `none` pattern does.

    `gate` lists plain substrings of which one must occur before the patterns are even tried:
    a cheap pre-check that also spares compiling patterns a message can never match.
    """

    __slots__ = ("name", "category", "priority", "gate", "all", "none", "_compiled")

    def __init__(self, raw: Any, *, lazy: bool) -> None:
        fields = {"name", "category", "priority", "gate", "all", "none"}
        raw = _check_keys(raw, fields, {"name", "category", "all"}, "rule")
        self.name = str(raw["name"])
        where = f"rule {self.name!r}"
        self.category = _category(raw["category"])
        self.priority = _priority(raw["priority"], where) if raw.get("priority") else None
        self.gate = [g.lower() for g in _strings(raw, "gate", where)]
        self.all = _strings(raw, "all", where, required=True)
        self.none = _strings(raw, "none", where)
        self._compiled: tuple[list[re.Pattern[str]], list[re.Pattern[str]]] | None = None
        if not lazy:
            self.compiled()

    def compiled(self) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
        """The rule's patterns, compiled on first use."""
        if self._compiled is None:
            where = f"rule {self.name!r}"
            self._compiled = (_compile(self.all, where), _compile(self.none, where))
        return self._compiled

    def matches(self, text: str) -> bool:
        """True when this rule fires on the (lower-cased) message text."""
        if self.gate and not any(g in text for g in self.gate):
            return False
        if self._compiled is None:  # packaged rules: compile pattern by pattern, as needed
            return _search_all(self.all, text) and not _search_any(self.none, text)
        must, veto = self._compiled
        return all(p.search(text) for p in must) and not any(p.search(text) for p in veto)

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "category": self.category}
        if self.priority:
            out["priority"] = self.priority.value
        return out | {"gate": self.gate, "all": self.all, "none": self.none}


class PriorityRule:
    """Sets the priority of some categories when any pattern matches and no `none` pattern does."""

    __slots__ = ("name", "categories", "priority", "any", "none", "_compiled")

    def __init__(self, raw: Any, *, lazy: bool) -> None:
        raw = _check_keys(
            raw,
            {"name", "categories", "priority", "any", "none"},
            {"name", "categories", "priority", "any"},
            "priority rule",
        )
        self.name = str(raw["name"])
        where = f"priority rule {self.name!r}"
        self.categories = [_category(c) for c in _strings(raw, "categories", where, required=True)]
        self.priority = _priority(raw["priority"], where)
        self.any = _strings(raw, "any", where, required=True)
        self.none = _strings(raw, "none", where)
        self._compiled: tuple[list[re.Pattern[str]], list[re.Pattern[str]]] | None = None
        if not lazy:
            self.compiled()

    def compiled(self) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
        """The rule's patterns, compiled on first use."""
        if self._compiled is None:
            where = f"priority rule {self.name!r}"
            self._compiled = (_compile(self.any, where), _compile(self.none, where))
        return self._compiled

    def matches(self, text: str) -> bool:
        """True when this priority rule applies to the (lower-cased) message text."""
        if self._compiled is None:  # packaged rules: compile pattern by pattern, as needed
            return _search_any(self.any, text) and not _search_any(self.none, text)
        hit, veto = self._compiled
        return any(p.search(text) for p in hit) and not any(p.search(text) for p in veto)

    def dump(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "categories": self.categories,
            "priority": self.priority.value,
            "any": self.any,
            "none": self.none,
        }


def _lazy(info: ValidationInfo) -> bool:
    # Compiling every pattern costs milliseconds of cold start; the packaged file is checked by
    # the tests, so only an operator's file is compiled up front (patterns compile on first use).
    return bool((info.context or {}).get("lazy_patterns"))


class ClassifierConfig(BaseModel):
    """Taxonomy, priorities, thresholds and rules: everything an operator may change."""

    # The validator is built on first validation, not at import: building it costs 7-9 ms, and
    # the packaged file (checked by the tests) is constructed without it (see load_config).
    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, defer_build=True
    )

    version: str = ""
    confidence_threshold: float = Field(0.5, ge=0.0, le=1.0)
    rule_confidence: float = Field(0.97, ge=0.0, le=1.0)
    hint_weight: float = Field(1.5, ge=0.0)
    # Spam is hidden from agents, so the model alone must be surer of spam than of anything else.
    spam_min_confidence: float = Field(0.7, ge=0.0, le=1.0)
    spam_verdicts: list[str] = Field(default_factory=lambda: ["FAIL"])
    categories: list[CategorySpec]
    hint_aliases: dict[str, str] = Field(default_factory=dict)
    rules: dict[str, list[Rule]] = Field(default_factory=dict)
    priority_rules: list[PriorityRule] = Field(default_factory=list)

    @field_validator("categories", mode="before")
    @classmethod
    def _categories(cls, v: Any) -> list[CategorySpec]:
        if not isinstance(v, list):
            raise ValueError("categories must be a list")
        specs = [c if isinstance(c, CategorySpec) else CategorySpec(c) for c in v]
        ids = [c.id for c in specs]
        dupes = {i for i in ids if ids.count(i) > 1}
        missing = {c.value for c in Category} - set(ids)
        if dupes or missing:
            raise ValueError(
                f"categories must list each id once: duplicated {sorted(dupes)}, missing {sorted(missing)}"
            )
        return specs

    @field_validator("rules", mode="before")
    @classmethod
    def _rules(cls, v: Any, info: ValidationInfo) -> dict[str, list[Rule]]:
        if not isinstance(v, dict):
            raise ValueError("rules must be an object keyed by language")
        if unknown := set(v) - set(RULE_LANGS):
            raise ValueError(f"unknown rule language(s) {sorted(unknown)}; use {RULE_LANGS}")
        return {
            lang: [r if isinstance(r, Rule) else Rule(r, lazy=_lazy(info)) for r in rs]
            for lang, rs in v.items()
        }

    @field_validator("priority_rules", mode="before")
    @classmethod
    def _priority_rules(cls, v: Any, info: ValidationInfo) -> list[PriorityRule]:
        if not isinstance(v, list):
            raise ValueError("priority_rules must be a list")
        return [r if isinstance(r, PriorityRule) else PriorityRule(r, lazy=_lazy(info)) for r in v]

    @field_validator("hint_aliases")
    @classmethod
    def _aliases_known(cls, v: dict[str, str]) -> dict[str, str]:
        return {k.lower(): _category(c) for k, c in v.items()}

    @property
    def default_priority(self) -> dict[str, Priority]:
        """Each category's default priority."""
        return {c.id: c.priority for c in self.categories}

    def rules_for(self, lang: str) -> list[Rule]:
        """Rules to try for a message in `lang`, in order: shared ones first, then the language's.

        Indonesian customers mix in English, so English rules also run on Indonesian text.
        """
        order = ["any", lang] + (["en"] if lang == "id" else [])
        return [r for key in order for r in self.rules.get(key, [])]

    def to_document(self) -> dict[str, Any]:
        """The configuration as the JSON document it was loaded from."""
        return self.model_dump(exclude={"categories", "rules", "priority_rules"}) | {
            "categories": [c.dump() for c in self.categories],
            "rules": {lang: [r.dump() for r in rs] for lang, rs in self.rules.items()},
            "priority_rules": [r.dump() for r in self.priority_rules],
        }


def load_config(
    path: str | Path | None = None, *, lazy_patterns: bool | None = None
) -> ClassifierConfig:
    """Load and validate taxonomy.json (the packaged default when `path` is None).

    Patterns of an operator's file are compiled at once so a bad one fails here; those of the
    packaged file compile on first use unless `lazy_patterns` is False.
    """
    if path is None:
        raw = resources.files("deskintake").joinpath("config", "taxonomy.json").read_text("utf-8")
    else:
        raw = Path(path).read_text("utf-8")
    data: Any = json.loads(raw)
    lazy = path is None if lazy_patterns is None else lazy_patterns
    if path is None and lazy:
        trusted = _construct_packaged(data)
        if trusted is not None:
            return trusted
    return ClassifierConfig.model_validate(data, context={"lazy_patterns": lazy})


# The plain-typed settings of the packaged file, checked without building pydantic's validator.
_SCALARS: dict[str, tuple[type, float | None, float | None]] = {
    "version": (str, None, None),
    "confidence_threshold": (float, 0.0, 1.0),
    "rule_confidence": (float, 0.0, 1.0),
    "hint_weight": (float, 0.0, None),
    "spam_min_confidence": (float, 0.0, 1.0),
}


def _construct_packaged(data: Any) -> ClassifierConfig | None:
    """The packaged config built by the same field validators, without pydantic's schema.

    Every category, rule and pattern check of the validators still runs; only the plain field
    types are checked here by hand. Anything unexpected returns None, so the caller falls back to
    full validation and its usual error messages.
    """
    C = ClassifierConfig
    if not isinstance(data, dict) or not set(data) <= set(C.model_fields):
        return None
    values: dict[str, Any] = {}
    for key, (kind, low, high) in _SCALARS.items():
        if key in data:
            v: Any = data[key]
            if kind is float and isinstance(v, int) and not isinstance(v, bool):
                v = float(v)
            if not isinstance(v, kind):
                return None
            if isinstance(v, float) and (
                (low is not None and v < low) or (high is not None and v > high)
            ):
                return None
            values[key] = v
    verdicts, aliases = data.get("spam_verdicts", ["FAIL"]), data.get("hint_aliases", {})
    if not isinstance(verdicts, list) or not all(isinstance(v, str) for v in verdicts):
        return None
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        return None
    if "categories" not in data:
        return None
    info: Any = _PackagedInfo()
    values["spam_verdicts"] = list(verdicts)
    values["hint_aliases"] = C._aliases_known(aliases)
    values["categories"] = C._categories(data["categories"])
    values["rules"] = C._rules(data.get("rules", {}), info)
    values["priority_rules"] = C._priority_rules(data.get("priority_rules", []), info)
    return C.model_construct(**values)


class _PackagedInfo:
    """Stands in for pydantic's ValidationInfo: the packaged file's patterns compile lazily."""

    context = {"lazy_patterns": True}
