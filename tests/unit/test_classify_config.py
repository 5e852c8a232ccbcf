"""taxonomy.json validation: operators edit it, so mistakes must fail loudly and clearly."""

import json
from pathlib import Path

import pytest
from deskintake.domain.classify import classify, load_config
from deskintake.domain.model import Category
from pydantic import ValidationError


def _raw() -> dict:
    return load_config().to_document()


def test_packaged_config_lists_every_category_once() -> None:
    cfg = load_config()
    assert sorted(c.id for c in cfg.categories) == sorted(c.value for c in Category)


def test_unknown_category_is_rejected_by_name(tmp_path: Path) -> None:
    raw = _raw()
    raw["rules"]["en"][0]["category"] = "card_frau"
    (tmp_path / "t.json").write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="card_frau"):
        load_config(tmp_path / "t.json")


def test_unknown_category_in_taxonomy_is_rejected(tmp_path: Path) -> None:
    raw = _raw()
    raw["categories"].append({"id": "lottery", "priority": "low"})
    (tmp_path / "t.json").write_text(json.dumps(raw))
    with pytest.raises(ValidationError, match="lottery"):
        load_config(tmp_path / "t.json")


def test_missing_category_and_bad_regex_are_rejected(tmp_path: Path) -> None:
    raw = _raw()
    raw["categories"] = [c for c in raw["categories"] if c["id"] != "spam"]
    (tmp_path / "a.json").write_text(json.dumps(raw))
    with pytest.raises(ValidationError, match="spam"):
        load_config(tmp_path / "a.json")
    raw = _raw()
    raw["rules"]["id"][0]["all"] = ["(unclosed"]
    (tmp_path / "b.json").write_text(json.dumps(raw))
    with pytest.raises(ValidationError, match="invalid pattern"):
        load_config(tmp_path / "b.json")


def test_operator_changes_take_effect(tmp_path: Path) -> None:
    raw = _raw()
    raw["confidence_threshold"] = 1.0
    for c in raw["categories"]:
        if c["id"] == "order_pending":
            c["priority"] = "urgent"
    raw["rules"]["id"].insert(
        0, {"name": "kata kunci voucher", "category": "rewards_points", "all": [r"\bvoucherku\b"]}
    )
    (tmp_path / "t.json").write_text(json.dumps(raw))
    cfg = load_config(tmp_path / "t.json")
    pending = classify("", "order pulsa saya masih pending dari tadi", config=cfg)
    assert pending.priority.value == "urgent"
    assert pending.needs_triage  # nothing reaches a threshold of 1.0
    assert classify("", "voucherku mana ya min", config=cfg).category is Category.REWARDS_POINTS
