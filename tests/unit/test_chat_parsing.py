"""Chat payloads to batches: the real corpus samples, masking, identity, malformed bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from deskintake.domain.errors import PayloadError
from deskintake.domain.model import Channel, Lang
from deskintake.inbound.chat import arrival, parse

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "webhooks"
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason="../shared/corpus/webhooks is not present"
)


def corpus(platform: str, name: str) -> bytes:
    return (CORPUS / platform / name).read_bytes()


def files(platform: str) -> list[Path]:
    return sorted((CORPUS / platform).glob("*.json")) if CORPUS.is_dir() else []


@needs_corpus
@pytest.mark.parametrize(
    "path", files("whatsapp") + files("telegram"), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_every_corpus_payload_parses_into_something(path: Path) -> None:
    channel = Channel.WHATSAPP if path.parent.name == "whatsapp" else Channel.TELEGRAM
    batch = parse(channel, path.read_bytes(), received_at=NOW)
    assert batch.messages or batch.statuses or batch.edits or batch.ignored
    for m in batch.messages:
        assert m.external_id and m.customer and m.text.strip()


@needs_corpus
def test_whatsapp_text_sample() -> None:
    batch = parse(Channel.WHATSAPP, corpus("whatsapp", "message__text.json"), received_at=NOW)
    (m,) = batch.messages
    assert (m.external_id, m.customer, m.customer_name, m.text) == (
        "wamid.xyzxyz",
        "972987654321",
        "Test Name",
        "Body Text",
    )
    assert m.received_at == NOW  # the 2023 sample's own time is kept in meta, not as arrival
    assert m.meta["sent_at"].startswith("2023-10-11")
    assert batch.raw_key.startswith("webhooks/whatsapp/")


@needs_corpus
def test_whatsapp_media_keeps_the_media_id_and_caption() -> None:
    (m,) = parse(
        Channel.WHATSAPP, corpus("whatsapp", "message__document.json"), received_at=NOW
    ).messages
    assert m.text.startswith("caption")
    assert m.meta["media"][0]["media_id"] == "1234567890987654321"
    assert m.attachments[0].filename == "filename.pdf"
    assert m.attachments[0].content_type == "application/pdf"
    assert m.meta["forwarded"] is True
    (v,) = parse(
        Channel.WHATSAPP, corpus("whatsapp", "message__voice.json"), received_at=NOW
    ).messages
    assert v.attachments[0].content_type == "audio/ogg"
    assert "voice" in v.text


@needs_corpus
def test_whatsapp_buttons_location_and_order_become_readable_text() -> None:
    def one(name: str) -> str:
        (m,) = parse(Channel.WHATSAPP, corpus("whatsapp", name), received_at=NOW).messages
        return m.text

    assert one("callback_button__quick_reply.json") == "title"
    assert one("callback_selection__callback.json") == "title"
    assert "12.25089" in one("message__current_location.json")
    order = one("message__order.json")
    assert "3 x HAMBURGER" in order and "FRENCH_FRIES" in order


@needs_corpus
def test_whatsapp_statuses_and_their_errors() -> None:
    (s,) = parse(
        Channel.WHATSAPP, corpus("whatsapp", "message_status__read.json"), received_at=NOW
    ).statuses
    assert (s.platform_message_id, s.status, s.recipient) == (
        "wamid.xyzxyz",
        "read",
        "972987654321",
    )
    (f,) = parse(
        Channel.WHATSAPP, corpus("whatsapp", "message_status__failed.json"), received_at=NOW
    ).statuses
    assert f.status == "failed" and f.errors and f.errors[0].startswith("130472")


@needs_corpus
def test_whatsapp_edit_revoke_and_the_ignored_kinds() -> None:
    edit = parse(
        Channel.WHATSAPP, corpus("whatsapp", "edited_message__image.json"), received_at=NOW
    )
    (e,) = edit.edits
    assert e.external_id == "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
    assert "Updated image caption" in e.text and not e.deleted
    assert e.replacement is not None and not edit.messages
    (r,) = parse(
        Channel.WHATSAPP, corpus("whatsapp", "deleted_message__revoke.json"), received_at=NOW
    ).edits
    assert r.deleted and r.external_id == "<ORIGINAL_WHATSAPP_MESSAGE_ID>"
    for name in (
        "message__reaction.json",
        "message__unreaction_empty.json",
        "system__identity_change.json",
        "user_marketing_preferences__signup.json",
    ):
        batch = parse(Channel.WHATSAPP, corpus("whatsapp", name), received_at=NOW)
        assert batch.ignored and not (batch.messages or batch.statuses or batch.edits), name


@needs_corpus
def test_whatsapp_message_with_errors_is_still_filed_with_them() -> None:
    (m,) = parse(
        Channel.WHATSAPP, corpus("whatsapp", "message__unsupported.json"), received_at=NOW
    ).messages
    assert m.meta["platform_errors"][0].startswith("131051")
    (i,) = parse(
        Channel.WHATSAPP,
        corpus("whatsapp", "message__interactive_message_with_err.json"),
        received_at=NOW,
    ).messages
    assert i.meta["platform_errors"][0].startswith("131000")


@needs_corpus
def test_telegram_samples() -> None:
    (m,) = parse(
        Channel.TELEGRAM, corpus("telegram", "message_text_no_chat_type.json"), received_at=NOW
    ).messages
    assert (m.external_id, m.customer, m.text) == ("1111111:1365", "1111111", "/start")
    assert m.meta["chat_type"] == "private"
    (p,) = parse(
        Channel.TELEGRAM, corpus("telegram", "message_photo.json"), received_at=NOW
    ).messages
    assert p.meta["media"][0]["file_id"].startswith("AgACAgUAAxkBAAODYV3a")
    (d,) = parse(
        Channel.TELEGRAM, corpus("telegram", "message_document_png.json"), received_at=NOW
    ).messages
    assert d.attachments[0].filename == "Screenshot 2021-09-27 at 2.01.14 PM.png"
    assert d.attachments[0].size == 536392
    (c,) = parse(
        Channel.TELEGRAM, corpus("telegram", "callback_query_inline_message.json"), received_at=NOW
    ).messages
    assert (c.external_id, c.customer, c.text) == (
        "cbq:4382bfdwdsb323b2d9",
        "1111111",
        "Data from button callback",
    )
    (e,) = parse(Channel.TELEGRAM, corpus("telegram", "edited_message.json"), received_at=NOW).edits
    assert (e.external_id, e.text) == ("1111111:1365", "Edited text")
    for name in (
        "teloxide_unknown_update_kind.json",
        "teloxide_my_chat_member_bot_blocked.json",
        "teloxide_message_reaction_anonymous_chat.json",
        "teloxide_pinned_message.json",
    ):
        batch = parse(Channel.TELEGRAM, corpus("telegram", name), received_at=NOW)
        assert batch.ignored and not batch.messages, name


def _livechat(**changes: object) -> bytes:
    body: dict[str, object] = {
        "event": "message",
        "message_id": "w-1",
        "text": "halo",
        "visitor": {"name": "Budi", "email": "Budi@Example.COM"},
    }
    body.update(changes)
    return json.dumps(body).encode()


def test_livechat_identity_hint_and_masking() -> None:
    text = "Kartu saya 4111 1111 1111 1111, kode OTP 123456, password: Rahasia123!"
    (m,) = parse(
        Channel.LIVECHAT, _livechat(text=text, category="order_pending"), received_at=NOW
    ).messages
    assert m.customer == "budi@example.com"
    assert m.category_hint == "order_pending"
    assert (
        "4111 1111 1111 1111" not in m.text
        and "123456" not in m.text
        and "Rahasia123!" not in m.text
    )
    assert {r.kind for r in m.redactions} == {"card", "otp", "password"}
    assert m.lang == Lang.ID
    (p,) = parse(
        Channel.LIVECHAT, _livechat(visitor={"phone": "0812-3456-7890"}), received_at=NOW
    ).messages
    assert p.customer == "+6281234567890"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "empty"),
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe{}", "JSON"),
        (json.dumps({"message_id": "w-1"}).encode(), "event"),
        (_livechat(message_id=None), "message_id"),
        (_livechat(message_id="has spaces"), "message_id"),
        (_livechat(visitor={"name": "anon"}), "email or visitor.phone"),
        (_livechat(visitor={"email": "not-an-email"}), "email"),
        (_livechat(text="   "), "text"),
        (_livechat(text=42), "text"),
    ],
)
def test_malformed_livechat_bodies_say_what_is_wrong(body: bytes, says: str) -> None:
    with pytest.raises(PayloadError, match=says):
        parse(Channel.LIVECHAT, body, received_at=NOW)


def test_livechat_other_events_are_ignored() -> None:
    batch = parse(Channel.LIVECHAT, json.dumps({"event": "typing"}).encode(), received_at=NOW)
    assert batch.ignored == ["event 'typing'"] and not batch.messages


@pytest.mark.parametrize(
    ("channel", "body"),
    [
        (Channel.WHATSAPP, {"entry": "x"}),
        (
            Channel.WHATSAPP,
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {"changes": [{"field": "messages", "value": {"messages": [{"from": "62811"}]}}]}
                ],
            },
        ),
        (
            Channel.WHATSAPP,
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {"changes": [{"field": "messages", "value": {"statuses": [{"id": "wamid.1"}]}}]}
                ],
            },
        ),
        (Channel.TELEGRAM, {"message": {"text": "hi"}}),
        (Channel.TELEGRAM, {"update_id": "1", "message": {"text": "hi"}}),
        (Channel.TELEGRAM, {"update_id": 1, "message": {"message_id": 5, "text": "hi"}}),
        (Channel.TELEGRAM, {"update_id": 1, "message": "hi"}),
    ],
)
def test_malformed_platform_bodies(channel: Channel, body: dict[str, object]) -> None:
    with pytest.raises(PayloadError):
        parse(channel, json.dumps(body).encode(), received_at=NOW)


def test_other_whatsapp_objects_are_ignored() -> None:
    batch = parse(
        Channel.WHATSAPP, json.dumps({"object": "page", "entry": []}).encode(), received_at=NOW
    )
    assert batch.ignored and not batch.messages


def test_arrival_uses_the_platform_time_only_when_plausible() -> None:
    assert arrival(NOW - timedelta(seconds=3), NOW) == NOW - timedelta(seconds=3)
    assert arrival(NOW - timedelta(days=400), NOW) == NOW
    assert arrival(NOW + timedelta(seconds=30), NOW) == NOW
    assert arrival(None, NOW) == NOW


def test_whatsapp_message_masks_secrets_in_text() -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": "1"},
                            "contacts": [{"profile": {"name": "Sari"}, "wa_id": "6281"}],
                            "messages": [
                                {
                                    "from": "6281",
                                    "id": "wamid.A",
                                    "timestamp": str(int(NOW.timestamp())),
                                    "type": "text",
                                    "text": {"body": "kode OTP saya 884213 tolong jangan diblokir"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    (m,) = parse(Channel.WHATSAPP, json.dumps(body).encode(), received_at=NOW).messages
    assert "884213" not in m.text and m.redactions[0].kind == "otp"
