"""Every WhatsApp and Telegram sample in ../shared/corpus/webhooks/, over HTTP, through the local gateway."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from deskintake.domain.model import Channel
from deskintake.domain.ticket import Direction
from deskintake.inbound.signatures import whatsapp_signature

from tests.e2e.chat.conftest import CORPUS, ChatStack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/webhooks is not present"),
]

WA_FILES = sorted((CORPUS / "whatsapp").glob("*.json")) if CORPUS.is_dir() else []
TG_FILES = sorted((CORPUS / "telegram").glob("*.json")) if CORPUS.is_dir() else []
_unique = itertools.count(1)


def signed(
    stack: ChatStack, channel: str, body: bytes, *, wrong: bool = False
) -> tuple[str, dict[str, str]]:
    env = stack.env
    if channel == "whatsapp":
        secret = env["DESKINTAKE_WHATSAPP_APP_SECRET"] + ("x" if wrong else "")
        return "/webhooks/whatsapp", {"X-Hub-Signature-256": whatsapp_signature(body, secret)}
    token = env["DESKINTAKE_TELEGRAM_SECRET_TOKEN"] + ("x" if wrong else "")
    return "/webhooks/telegram", {"X-Telegram-Bot-Api-Secret-Token": token}


def post_file(
    stack: ChatStack, channel: str, body: bytes, *, wrong: bool = False
) -> tuple[int, dict[str, Any]]:
    path, headers = signed(stack, channel, body, wrong=wrong)
    return stack.post(path, body, headers)


def kind_of(channel: str, body: bytes) -> tuple[str, list[str]]:
    """What a sample is, read from the sample itself (not from our parser): and its message keys."""
    data = json.loads(body)
    if channel == "whatsapp":
        value = data["entry"][0]["changes"][0]["value"]
        if data["entry"][0]["changes"][0]["field"] != "messages":
            return "other", []
        if value.get("statuses"):
            return "status", [s["id"] for s in value["statuses"]]
        types = [m.get("type") for m in value.get("messages", [])]
        if types and all(t in {"reaction", "system"} for t in types):
            return "other", []
        if types and all(t in {"edit", "revoke"} for t in types):
            return "edit", []
        return "message", [m["id"] for m in value["messages"]]
    if "message" in data:
        msg = data["message"]
        if msg.get("pinned_message") is not None:
            return "other", []
        return "message", [f"{msg['chat']['id']}:{msg['message_id']}"]
    if "callback_query" in data:
        return "message", [f"cbq:{data['callback_query']['id']}"]
    if "edited_message" in data:
        return "edit", []
    return "other", []


def uniquify(channel: str, body: bytes) -> tuple[bytes, str]:
    """The sample with fresh ids and a fresh customer, so it files on its own; (body, customer)."""
    n = next(_unique)
    data = copy.deepcopy(json.loads(body))
    if channel == "whatsapp":
        customer = f"62899{n:07d}"
        for change in data["entry"][0]["changes"]:
            value = change.get("value", {})
            for contact in value.get("contacts", []):
                contact["wa_id"] = customer
            for message in value.get("messages", []):
                message["id"] = f"{message['id']}.u{n}"
                message["from"] = customer
        return json.dumps(data).encode(), customer
    chat_id = 900_000_000 + n
    data["update_id"] = 500_000_000 + n
    for key in ("message", "edited_message"):
        if isinstance(data.get(key), dict):
            data[key]["chat"]["id"] = chat_id
            if isinstance(data[key].get("from"), dict):
                data[key]["from"]["id"] = chat_id
    if isinstance(data.get("callback_query"), dict):
        data["callback_query"]["id"] += f"-u{n}"
        data["callback_query"]["from"]["id"] = chat_id
    return json.dumps(data, ensure_ascii=False).encode(), str(chat_id)


@pytest.mark.parametrize("path", WA_FILES + TG_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_verbatim_sample_is_acknowledged_and_its_messages_are_stored(
    chat_stack: ChatStack, path: Path
) -> None:
    channel = path.parent.name
    body = path.read_bytes()
    status, answer = post_file(chat_stack, channel, body)
    assert status == 200, answer
    kind, keys = kind_of(channel, body)
    repo = chat_stack.repo()
    for key in keys if kind == "message" else []:
        assert repo.find_message(Channel(channel), key) is not None, f"{key} not stored"
    if kind == "message":
        assert answer["tickets"]
        assert (
            f"webhooks/{channel}/{hashlib.sha256(body).hexdigest()}.json" in chat_stack.raw_keys()
        )
    if kind == "status":
        assert answer["statuses_applied"] + answer["statuses_unmatched"] == len(keys)
    if kind == "other":
        assert answer["ignored"] and not answer["tickets"]


@pytest.mark.parametrize("path", WA_FILES + TG_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fresh_copy_of_each_message_sample_becomes_a_ticket_with_an_ack(
    chat_stack: ChatStack, path: Path
) -> None:
    channel = path.parent.name
    body, customer = uniquify(channel, path.read_bytes())
    kind, keys = kind_of(channel, body)
    status, answer = post_file(chat_stack, channel, body)
    assert status == 200, answer
    if kind not in {"message", "edit"}:
        return
    if kind == "edit" and b"revoke" in body:
        assert not answer["tickets"]  # deleting a message we never had files nothing
        return
    (filed,) = answer["tickets"]
    assert filed["created"], filed
    ticket = chat_stack.repo().get(filed["ticket_id"])
    assert ticket.customer == customer and ticket.channel == Channel(channel)
    messages = chat_stack.repo().messages(ticket.id)
    inbound = [m for m in messages if m.direction == Direction.INBOUND]
    assert len(inbound) == 1 and inbound[0].text.strip()
    for key in keys:
        assert chat_stack.repo().find_message(Channel(channel), key) == (ticket.id, inbound[0].id)
    outbound = [m for m in messages if m.direction == Direction.OUTBOUND]
    if ticket.category == "spam":  # intake never acknowledges spam; the skip is on the timeline
        assert not outbound and not chat_stack.fake.to(customer)
        assert any(e.kind == "ack_skipped" for e in chat_stack.repo().events(ticket.id))
        return
    (ack,) = outbound
    assert ack.delivery_status == "sent" and ticket.id in ack.text
    sent = chat_stack.fake.to(customer)
    assert len(sent) == 1 and ticket.id in str(sent[0].payload.get("text"))


@pytest.mark.parametrize("path", WA_FILES + TG_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_wrong_signature_is_refused_and_stores_nothing(chat_stack: ChatStack, path: Path) -> None:
    channel = path.parent.name
    body, _ = uniquify(channel, path.read_bytes())
    before_items, before_raw = chat_stack.item_count(), chat_stack.raw_keys()
    status, answer = post_file(chat_stack, channel, body, wrong=True)
    assert status == 401, answer
    no_header = chat_stack.post(signed(chat_stack, channel, body)[0], body)
    assert no_header[0] == 401
    assert chat_stack.item_count() == before_items
    assert chat_stack.raw_keys() == before_raw


def test_corpus_statuses_update_our_outbound_message(chat_stack: ChatStack) -> None:
    """Each status sample, pointed at our real ack's id, moves its delivery state."""
    from deskintake.commands.chat_send import whatsapp_body

    results = {}
    for name in (
        "message_status__sent.json",
        "message_status__delivered.json",
        "message_status__read.json",
        "message_status__failed.json",
    ):
        n = next(_unique)
        customer = f"62877{n:07d}"
        body = whatsapp_body(
            "Halo, saldo saya belum masuk",
            wa_id=customer,
            name="Rini",
            message_id=f"wamid.status-test-{n}",
            now=__import__("time").time(),
        )
        status, answer = post_file(chat_stack, "whatsapp", body)
        assert status == 200 and answer["tickets"][0]["acknowledged"], answer
        (sent,) = chat_stack.fake.to(customer)
        sample = json.loads((CORPUS / "whatsapp" / name).read_bytes())
        sample["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = sent.answer_id
        status, answer = post_file(chat_stack, "whatsapp", json.dumps(sample).encode())
        assert status == 200 and answer["statuses_applied"] == 1, answer
        ticket_id = answer and chat_stack.repo().find_message(Channel.WHATSAPP, sent.answer_id)[0]
        (ack,) = [
            m for m in chat_stack.repo().messages(ticket_id) if m.direction == Direction.OUTBOUND
        ]
        results[name] = ack.delivery_status
    assert results == {
        "message_status__sent.json": "sent",
        "message_status__delivered.json": "delivered",
        "message_status__read.json": "read",
        "message_status__failed.json": "failed",
    }


def test_corpus_telegram_edit_rewrites_the_message_it_edits(chat_stack: ChatStack) -> None:
    original = json.loads((CORPUS / "telegram" / "message_text.json").read_bytes())
    edited = json.loads((CORPUS / "telegram" / "edited_message.json").read_bytes())
    chat_id = 910_000_000 + next(_unique)
    for data in (original["message"], edited["edited_message"]):
        data["chat"]["id"] = data["from"]["id"] = chat_id
    original["update_id"], edited["update_id"] = chat_id, chat_id + 1
    assert post_file(chat_stack, "telegram", json.dumps(original).encode())[0] == 200
    status, answer = post_file(chat_stack, "telegram", json.dumps(edited).encode())
    assert status == 200 and answer["edits_applied"] == 1, answer
    ticket_id, message_id = chat_stack.repo().find_message(Channel.TELEGRAM, f"{chat_id}:1365")
    (stored,) = [m for m in chat_stack.repo().messages(ticket_id) if m.id == message_id]
    assert stored.text == "Edited text" and stored.meta["edits"][0]["previous_text"] == "/start"
