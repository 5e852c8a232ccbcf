"""parse_email over the shared third-party corpus: no crash, no mojibake, loops detected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from deskintake.domain.errors import EmailParseError
from deskintake.inbound.email import ParsedEmail, parse_email

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "emails"

pytestmark = pytest.mark.skipif(
    not (CORPUS / "index.jsonl").is_file(),
    reason="shared email corpus not found next to the repo (../shared/corpus/emails)",
)


def _index() -> list[dict[str, Any]]:
    if not (CORPUS / "index.jsonl").is_file():
        return []
    lines = (CORPUS / "index.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ENTRIES = _index()


def _parse(entry: dict[str, Any]) -> ParsedEmail | None:
    try:
        return parse_email((CORPUS / entry["path"]).read_bytes())
    except EmailParseError:
        return None


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["path"] for e in ENTRIES])
def test_corpus_mail_parses_without_exception_or_mojibake(entry: dict[str, Any]) -> None:
    mail = _parse(entry)
    traits = set(entry["traits"])
    if mail is None:
        assert "malformed" in traits or "body_only" in traits, "only broken mail may yield nothing"
        return
    json.dumps(mail.model_dump(mode="json"), ensure_ascii=False)  # serialisable as the CLI does
    if not {"malformed", "body_only"} & traits:
        assert "\ufffd" not in mail.text
        assert "\ufffd" not in mail.subject


def test_loops_in_the_corpus_are_detected() -> None:
    loops = [e for e in ENTRIES if {"bounce", "auto_reply"} & set(e["traits"])]
    missed = [e["path"] for e in loops if not ((m := _parse(e)) is not None and m.is_auto)]
    assert loops, "the corpus should contain bounces and auto-replies"
    assert len(missed) <= 0.1 * len(loops), f"loops not detected: {missed}"


def test_ordinary_replies_in_the_corpus_are_not_flagged_as_loops() -> None:
    replies = [
        e
        for e in ENTRIES
        if "reply" in e["traits"]
        and not {"bounce", "auto_reply", "mailing_list", "spam", "marketing"} & set(e["traits"])
    ]
    flagged = {
        e["path"]: m.auto_reason for e in replies if (m := _parse(e)) is not None and m.is_auto
    }
    assert replies
    # A reply posted through a mailing list is bulk mail by its headers; nothing else may trip.
    assert all(
        (reason or "").startswith(("precedence", "mailing list")) for reason in flagged.values()
    ), flagged
