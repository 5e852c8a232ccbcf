"""The packaged follow-up and brands defaults, built without pydantic's schemas, equal full validation.

At cold start the packaged files are constructed by the models' own checks (no schema build);
an operator's file is validated in full. Both paths must agree on every document the trusted
path accepts, and the trusted path must refuse (so full validation reports) anything invalid.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from deskintake.domain import brands, follow_up_policy
from deskintake.domain.brands import Brand, BrandsConfig
from deskintake.domain.follow_up_policy import FollowUpConfig
from pydantic import BaseModel, ValidationError


def packaged(name: str) -> Any:
    return json.loads(resources.files("deskintake.config").joinpath(name).read_text("utf-8"))


def same(a: BaseModel, b: BaseModel) -> bool:
    """Equal values of the same types, down to nested models, and the same fields set."""
    if type(a) is not type(b) or a.model_fields_set != b.model_fields_set:
        return False
    for name in type(a).model_fields:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, BaseModel):
            if not same(x, y):
                return False
        elif type(x) is not type(y) or x != y:
            return False
    return True


def mutations(doc: Any) -> Iterator[Any]:
    """The document with each value in turn replaced by something else, or removed."""
    values: list[Any] = [None, True, 0, -1, 1.5, 24, "", "x", "07:00", "Mars/Olympus",
                         "2026-13-01", [], ["x"], [1], {}, {"minutes": 0}, ["card_fraud"]]

    def walk(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for key, child in items:
            yield (*path, key)
            yield from walk(child, (*path, key))

    for path in walk(doc, ()):
        for value in [KeyError, *values]:
            changed = copy.deepcopy(doc)
            parent = changed
            for key in path[:-1]:
                parent = parent[key]
            if value is KeyError:
                if isinstance(parent, dict):
                    del parent[path[-1]]
                else:
                    parent.pop(path[-1])
            else:
                parent[path[-1]] = value
            yield changed
    yield {**doc, "unknown_setting": 1}


def agree(trusted: BaseModel | None, validate: Any, doc: Any) -> None:
    try:
        full = validate(doc)
    except (ValidationError, TypeError):  # TypeError: BusinessHours given a number of seconds
        assert trusted is None, f"accepted what validation rejects: {doc}"
        return
    assert trusted is None or same(trusted, full), doc


def test_packaged_follow_up_config_is_the_fully_validated_one() -> None:
    doc = packaged("follow_ups.json")
    trusted = follow_up_policy._construct_packaged(doc)
    assert trusted is not None
    assert same(trusted, FollowUpConfig.model_validate(doc))
    assert same(follow_up_policy.load_config(), FollowUpConfig.model_validate(doc))


def test_follow_up_config_trusted_path_never_accepts_what_validation_rejects() -> None:
    docs = list(mutations(packaged("follow_ups.json")))
    assert len(docs) > 500
    for doc in docs:
        agree(follow_up_policy._construct_packaged(doc), FollowUpConfig.model_validate, doc)


def test_follow_up_config_trusted_path_runs_the_models_checks() -> None:
    doc = packaged("follow_ups.json")
    closes_first = copy.deepcopy(doc)
    closes_first["business_hours"].update(opens="23:00", closes="07:00")
    reminder_last = {**doc, "waiting_reminder_after_hours": 80}
    no_target = copy.deepcopy(doc)
    no_target["first_response"]["high"] = {"round_the_clock": True}
    for bad in (closes_first, reminder_last, no_target):
        assert follow_up_policy._construct_packaged(bad) is None
        with pytest.raises(ValidationError):
            FollowUpConfig.model_validate(bad)


def test_packaged_brands_are_the_fully_validated_ones() -> None:
    doc = packaged("brands.json")
    trusted = brands._construct_packaged(doc)
    assert trusted is not None
    assert same(trusted, BrandsConfig.model_validate(doc))
    assert same(brands.load_brands(), BrandsConfig.model_validate(doc))


def test_brands_trusted_path_never_accepts_what_validation_rejects() -> None:
    doc = packaged("brands.json")
    doc["brands"].append({"id": "second", "addresses": [" Help@Example.COM "],
                          "languages": ["en", "en", "id"]})
    docs = [doc, *mutations(doc)]
    assert len(docs) > 200
    for d in docs:
        agree(brands._construct_packaged(d), BrandsConfig.model_validate, d)
    clash = copy.deepcopy(doc)
    clash["brands"][1]["addresses"] = ["*"]
    assert brands._construct_packaged(clash) is None
    with pytest.raises(ValidationError, match="belongs to both"):
        BrandsConfig.model_validate(clash)


def test_an_unconfigured_brand_id_gets_the_default_policy() -> None:
    config = brands.load_brands()
    assert same(config.get("acme"), Brand(id="acme"))
    assert same(config.get("admin"), Brand(id="default"))
    assert same(config.get(None), Brand(id="default"))
