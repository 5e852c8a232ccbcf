"""Chat intake over fakes: tickets, acks through the outbox, repeats, statuses, edits, hints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from deskintake.adapters.eventbridge_events import RecordingPublisher
from deskintake.domain.model import (
    Category,
    Channel,
    Classification,
    InboundMessage,
    Lang,
    Priority,
)
from deskintake.domain.ticket import Direction
from deskintake.inbound.chat import parse
from deskintake.runtime.wiring import classify_inbound
from deskintake.services.chat_intake import ChatIntakeDeps, process
from deskintake.services.intake import IntakeDeps

from tests.fakes import (
    InMemoryRateLimiter,
    InMemoryRawStore,
    InMemoryTicketRepository,
    RecordingSender,
)

T0 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


class WaSender(RecordingSender):
    def send(self, ticket: Any, message: Any) -> str:
        super().send(ticket, message)
        return f"wamid.OUT{len(self.sent)}"


@pytest.fixture
def deps() -> ChatIntakeDeps:
    senders = {
        Channel.WHATSAPP: WaSender(),
        Channel.TELEGRAM: RecordingSender(),
        Channel.LIVECHAT: RecordingSender(),
    }
    return ChatIntakeDeps(
        intake=IntakeDeps(
            tickets=InMemoryTicketRepository(),
            classify=classify_inbound,
            events=RecordingPublisher(),
            limiter=InMemoryRateLimiter(),
            senders=senders,
        ),
        raw=InMemoryRawStore(),
    )


def repo(deps: ChatIntakeDeps) -> InMemoryTicketRepository:
    r = deps.intake.tickets
    assert isinstance(r, InMemoryTicketRepository)
    return r


def wa(
    text: str,
    msg_id: str,
    *,
    at: datetime = T0,
    sender: str = "6281234567890",
    kind: str = "text",
    extra: dict[str, Any] | None = None,
) -> bytes:
    message: dict[str, Any] = {
        "from": sender,
        "id": msg_id,
        "timestamp": str(int(at.timestamp())),
        "type": kind,
    }
    message.update({"text": {"body": text}} if kind == "text" else {})
    message.update(extra or {})
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": "99"},
                                "contacts": [{"profile": {"name": "Sari"}, "wa_id": sender}],
                                "messages": [message],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def wa_status(msg_id: str, status: str, **extra: Any) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "statuses": [
                                    {
                                        "id": msg_id,
                                        "status": status,
                                        "timestamp": "1",
                                        "recipient_id": "6281234567890",
                                        **extra,
                                    }
                                ]
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def run(deps: ChatIntakeDeps, channel: Channel, body: bytes, *, at: datetime = T0) -> Any:
    return process(parse(channel, body, received_at=at), deps, body=body, now=at)


def test_a_new_chat_opens_a_ticket_and_is_acknowledged_through_the_outbox(
    deps: ChatIntakeDeps,
) -> None:
    body = wa("Halo kak, saya sudah bayar pulsa tapi belum masuk", "wamid.1")
    out = run(deps, Channel.WHATSAPP, body)
    (filed,) = out.tickets
    assert filed["created"] and filed["acknowledged"]
    ticket = repo(deps).get(filed["ticket_id"])
    assert (ticket.channel, ticket.customer, ticket.customer_name, ticket.lang) == (
        Channel.WHATSAPP,
        "6281234567890",
        "Sari",
        Lang.ID,
    )
    inbound, ack = sorted(
        repo(deps).messages(ticket.id), key=lambda m: m.direction != Direction.INBOUND
    )
    assert inbound.raw_key is not None and repo(deps).find_message(Channel.WHATSAPP, "wamid.1")
    assert ack.direction == Direction.OUTBOUND and ack.delivery_status == "sent"
    assert ticket.id in ack.text and ack.external_id == "wamid.OUT1"
    assert ack.meta["reply_to_platform_id"] == "wamid.1"
    assert deps.raw is not None and deps.raw.get(inbound.raw_key) == body  # type: ignore[union-attr]


def test_a_retried_delivery_files_nothing_new(deps: ChatIntakeDeps) -> None:
    body = wa("pulsa belum masuk", "wamid.1")
    first = run(deps, Channel.WHATSAPP, body).tickets[0]
    again = run(deps, Channel.WHATSAPP, body, at=T0 + timedelta(hours=2)).tickets[0]
    assert again["duplicate"] and again["ticket_id"] == first["ticket_id"]
    assert len(repo(deps).tickets) == 1
    assert (
        len(
            [m for m in repo(deps).messages(first["ticket_id"]) if m.direction == Direction.INBOUND]
        )
        == 1
    )
    assert len(deps.intake.senders[Channel.WHATSAPP].sent) == 1  # type: ignore[attr-defined]


def test_the_same_text_five_times_in_a_minute_is_one_message_counted_five_times(
    deps: ChatIntakeDeps,
) -> None:
    for i in range(5):
        run(
            deps,
            Channel.WHATSAPP,
            wa("tolong cek saldo saya", f"wamid.{i}", at=T0 + timedelta(seconds=10 * i)),
            at=T0 + timedelta(seconds=10 * i),
        )
    (ticket_id,) = repo(deps).tickets
    inbound = [m for m in repo(deps).messages(ticket_id) if m.direction == Direction.INBOUND]
    assert len(inbound) == 1 and inbound[0].repeat_count == 5
    # A different text afterwards is a message of its own on the same ticket.
    run(
        deps,
        Channel.WHATSAPP,
        wa("sudah 2 jam", "wamid.9", at=T0 + timedelta(seconds=55)),
        at=T0 + timedelta(seconds=55),
    )
    assert len([m for m in repo(deps).messages(ticket_id) if m.direction == Direction.INBOUND]) == 2


def test_statuses_move_the_ack_forward_only_and_unknown_ones_are_acknowledged(
    deps: ChatIntakeDeps,
) -> None:
    ticket_id = run(deps, Channel.WHATSAPP, wa("halo", "wamid.1")).tickets[0]["ticket_id"]

    def ack_status() -> str | None:
        (ack,) = [m for m in repo(deps).messages(ticket_id) if m.direction == Direction.OUTBOUND]
        return ack.delivery_status

    assert run(deps, Channel.WHATSAPP, wa_status("wamid.OUT1", "read")).statuses_applied == 1
    assert ack_status() == "read"
    run(deps, Channel.WHATSAPP, wa_status("wamid.OUT1", "delivered"))  # late, out of order
    assert ack_status() == "read"
    out = run(deps, Channel.WHATSAPP, wa_status("wamid.NOT-OURS", "delivered"))
    assert (out.statuses_applied, out.statuses_unmatched) == (0, 1)
    # An inbound message id is not ours to mark delivered.
    assert run(deps, Channel.WHATSAPP, wa_status("wamid.1", "read")).statuses_unmatched == 1


def test_a_failed_status_is_recorded_with_the_reason(deps: ChatIntakeDeps) -> None:
    ticket_id = run(deps, Channel.WHATSAPP, wa("halo", "wamid.1")).tickets[0]["ticket_id"]
    errors = [
        {"code": 131047, "title": "Re-engagement message", "error_data": {"details": "24h window"}}
    ]
    run(deps, Channel.WHATSAPP, wa_status("wamid.OUT1", "failed", errors=errors))
    (ack,) = [m for m in repo(deps).messages(ticket_id) if m.direction == Direction.OUTBOUND]
    assert ack.delivery_status == "failed"
    assert any(
        e.kind == "send_failed" and "131047" in e.detail["reason"]
        for e in repo(deps).events(ticket_id)
    )


def test_telegram_edit_rewrites_the_stored_message_and_keeps_the_earlier_text(
    deps: ChatIntakeDeps,
) -> None:
    msg = {
        "message_id": 7,
        "chat": {"id": 555, "type": "private"},
        "from": {"id": 555, "first_name": "Andi"},
        "date": int(T0.timestamp()),
        "text": "password saya: Rahasia123 tolong reset",
    }
    ticket_id = run(
        deps, Channel.TELEGRAM, json.dumps({"update_id": 1, "message": msg}).encode()
    ).tickets[0]["ticket_id"]
    edited = {**msg, "text": "tolong reset akun saya", "edit_date": int(T0.timestamp()) + 30}
    out = run(
        deps, Channel.TELEGRAM, json.dumps({"update_id": 2, "edited_message": edited}).encode()
    )
    assert out.edits_applied == 1 and not out.tickets
    (stored,) = [m for m in repo(deps).messages(ticket_id) if m.direction == Direction.INBOUND]
    assert stored.text == "tolong reset akun saya"
    assert "Rahasia123" not in json.dumps(stored.meta)  # the history holds the masked text only
    assert stored.meta["edits"][0]["previous_text"].startswith("password saya")
    # The same edit delivered again changes nothing.
    run(deps, Channel.TELEGRAM, json.dumps({"update_id": 2, "edited_message": edited}).encode())
    assert (
        len(
            next(
                m for m in repo(deps).messages(ticket_id) if m.direction == Direction.INBOUND
            ).meta["edits"]
        )
        == 1
    )


def test_an_edit_of_an_unknown_message_is_filed_as_a_message(deps: ChatIntakeDeps) -> None:
    edited = {
        "message_id": 9,
        "chat": {"id": 556, "type": "private"},
        "from": {"id": 556, "first_name": "Rina"},
        "date": int(T0.timestamp()),
        "edit_date": int(T0.timestamp()) + 5,
        "text": "saldo saya hilang",
    }
    out = run(
        deps, Channel.TELEGRAM, json.dumps({"update_id": 3, "edited_message": edited}).encode()
    )
    assert out.tickets and out.tickets[0]["created"]
    assert repo(deps).find_message(Channel.TELEGRAM, "556:9") is not None


def test_only_the_author_can_edit_or_delete(deps: ChatIntakeDeps) -> None:
    ticket_id = run(deps, Channel.WHATSAPP, wa("pesanan saya belum sampai", "wamid.1")).tickets[0][
        "ticket_id"
    ]
    revoke = wa(
        "",
        "wamid.2",
        sender="6289999",
        kind="revoke",
        extra={"revoke": {"original_message_id": "wamid.1"}},
    )
    assert run(deps, Channel.WHATSAPP, revoke).edits_applied == 0
    own = wa("", "wamid.3", kind="revoke", extra={"revoke": {"original_message_id": "wamid.1"}})
    assert run(deps, Channel.WHATSAPP, own).edits_applied == 1
    (stored,) = [m for m in repo(deps).messages(ticket_id) if m.direction == Direction.INBOUND]
    assert stored.meta["deleted_at"] and stored.text == "pesanan saya belum sampai"


def test_prechat_category_is_passed_as_a_hint_not_a_verdict(deps: ChatIntakeDeps) -> None:
    seen: list[InboundMessage] = []

    def spy(inbound: InboundMessage) -> Classification:
        seen.append(inbound)
        return classify_inbound(inbound)

    deps.intake.classify = spy
    body = json.dumps(
        {
            "event": "message",
            "message_id": "w-1",
            "category": "rewards_points",
            "visitor": {"email": "a@example.com"},
            "text": "Kartu kredit saya dipakai transaksi yang tidak saya lakukan, tolong blokir",
        }
    ).encode()
    ticket = repo(deps).get(run(deps, Channel.LIVECHAT, body).tickets[0]["ticket_id"])
    assert seen[0].category_hint == "rewards_points"
    assert ticket.category == Category.CARD_FRAUD  # the text outweighs the visitor's pick


def test_prechat_hint_tips_a_vague_message(deps: ChatIntakeDeps) -> None:
    captured: dict[str, Any] = {}

    def fake(inbound: InboundMessage) -> Classification:
        captured["hint"] = inbound.category_hint
        return Classification(
            category=Category.GENERAL_INQUIRY,
            priority=Priority.NORMAL,
            confidence=0.5,
            lang=inbound.lang,
        )

    deps.intake.classify = fake
    body = json.dumps(
        {
            "event": "message",
            "message_id": "w-2",
            "category": "Order_Pending",
            "visitor": {"phone": "+62 812 0000 1111"},
            "text": "tolong dicek",
        }
    ).encode()
    run(deps, Channel.LIVECHAT, body)
    assert captured["hint"] == "order_pending"


def test_ignored_events_and_statuses_store_no_raw_body(deps: ChatIntakeDeps) -> None:
    run(deps, Channel.WHATSAPP, wa_status("wamid.X", "delivered"))
    run(deps, Channel.LIVECHAT, json.dumps({"event": "typing"}).encode())
    assert deps.raw is not None and not deps.raw.objects  # type: ignore[union-attr]
    assert not repo(deps).tickets


def wa_burst(texts: list[str], prefix: str, *, at: datetime = T0, sender: str = "6281234567890") -> bytes:
    """One WhatsApp delivery carrying several messages of one customer, sent a second apart
    just before it reached us."""
    body = json.loads(wa(texts[0], f"{prefix}0", at=at, sender=sender))
    value = body["entry"][0]["changes"][0]["value"]
    value["messages"] = [
        {"from": sender, "id": f"{prefix}{i}", "timestamp": str(int(at.timestamp()) - len(texts) + i),
         "type": "text", "text": {"body": text}}
        for i, text in enumerate(texts)
    ]
    return json.dumps(body).encode()


BURST = ["kak saldo saya kepotong", "tapi pulsa belum masuk", "trx INV-230914-88213",
         "nomor 081234567890", "tolong dicek ya kak"]


def test_a_burst_of_one_customers_messages_is_one_ticket_with_every_message_in_order(
    deps: ChatIntakeDeps,
) -> None:
    outcome = run(deps, Channel.WHATSAPP, wa_burst(BURST, "wamid.B"))

    (ticket_id,) = {t["ticket_id"] for t in outcome.tickets}
    assert [t["created"] for t in outcome.tickets] == [True, False, False, False, False]
    inbound = [m for m in repo(deps).messages(ticket_id) if m.direction == Direction.INBOUND]
    assert [m.text for m in inbound] == BURST
    ticket = repo(deps).get(ticket_id)
    assert ticket.message_count == 5 and ticket.preview == "tolong dicek ya kak"
    # One acknowledgement for the conversation, not one per message.
    assert len([m for m in repo(deps).messages(ticket_id) if m.direction == Direction.OUTBOUND]) == 1
    events = deps.intake.events.events  # type: ignore[attr-defined]
    assert [t for t, _ in events].count("TicketUpdated") == 1


def test_a_redelivered_burst_stores_nothing_twice(deps: ChatIntakeDeps) -> None:
    body = wa_burst(BURST, "wamid.R")
    first = run(deps, Channel.WHATSAPP, body)
    again = run(deps, Channel.WHATSAPP, body, at=T0 + timedelta(seconds=30))

    assert all(t["duplicate"] for t in again.tickets)
    assert {t["ticket_id"] for t in again.tickets} == {t["ticket_id"] for t in first.tickets}
    (ticket_id,) = {t["ticket_id"] for t in first.tickets}
    assert len([m for m in repo(deps).messages(ticket_id) if m.direction == Direction.INBOUND]) == 5
    assert repo(deps).get(ticket_id).message_count == 5


def test_a_repeat_inside_a_burst_is_counted_not_stored(deps: ChatIntakeDeps) -> None:
    texts = ["halo kak", "pulsa belum masuk", "pulsa  belum MASUK", "ditunggu"]
    outcome = run(deps, Channel.WHATSAPP, wa_burst(texts, "wamid.P"))

    assert [t["repeated"] for t in outcome.tickets] == [False, False, True, False]
    (ticket_id,) = {t["ticket_id"] for t in outcome.tickets}
    inbound = [m for m in repo(deps).messages(ticket_id) if m.direction == Direction.INBOUND]
    assert [(m.text, m.repeat_count) for m in inbound] == [
        ("halo kak", 1), ("pulsa belum masuk", 2), ("ditunggu", 1)]
