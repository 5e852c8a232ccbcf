"""A greeting alone is a general inquiry waiting for its request; the request classifies it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from deskintake.adapters.eventbridge_events import RecordingPublisher
from deskintake.domain.greetings import is_greeting_only
from deskintake.domain.model import Category, Channel, InboundMessage, Priority
from deskintake.runtime.wiring import classify_inbound
from deskintake.services.intake import IntakeDeps, submit, submit_all
from deskintake.services.tickets import TicketsDeps, update_ticket

from tests.fakes import InMemoryRateLimiter, InMemoryTicketRepository, RecordingSender
from tests.unit.test_tickets_service import ListCorrections, NoQueries

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
FRAUD = "kartu saya dipakai orang lain, ada transaksi 2 juta yang tidak saya lakukan"


@pytest.mark.parametrize("text", [
    "halo kak", "Permisi min 🙏", "p", "hello?", "Selamat siang kak", "assalamualaikum kak",
    "Good morning, anyone there?", "can I ask a question?", "mau tanya dong kak", "你好，在吗",
    "您好 客服", "hi there!!",
])
def test_greetings_alone_are_recognised(text: str) -> None:
    assert is_greeting_only(text)
    classification = classify_inbound(chat(text))
    assert (classification.category, classification.needs_triage) == (Category.GENERAL_INQUIRY, False)
    assert "greeting" in classification.explanation[0]


@pytest.mark.parametrize("text", [
    "halo kak pulsa saya belum masuk", "hello, I need a refund", "你好，我的卡被盗刷了",
    "halo 0812345678", "terima kasih", "ok", "kak saldo kepotong", "",
])
def test_a_greeting_with_anything_else_is_not_one(text: str) -> None:
    assert not is_greeting_only(text)


def chat(text: str, mid: str = "wamid.1", at: datetime = T0) -> InboundMessage:
    return InboundMessage(channel=Channel.WHATSAPP, external_id=mid, customer="6281234500000",
                          text=text, received_at=at)


@pytest.fixture
def deps() -> IntakeDeps:
    return IntakeDeps(tickets=InMemoryTicketRepository(), classify=classify_inbound,
                      events=RecordingPublisher(), limiter=InMemoryRateLimiter(),
                      senders={Channel.WHATSAPP: RecordingSender()})


def test_the_request_after_a_greeting_classifies_the_ticket(deps: IntakeDeps) -> None:
    first = submit(chat("halo kak"), deps, now=T0)
    assert (first.ticket.category, first.ticket.priority) == (Category.GENERAL_INQUIRY, Priority.NORMAL)

    later = T0 + timedelta(minutes=1)
    second = submit(chat(FRAUD, "wamid.2", later), deps, now=later)

    ticket = deps.tickets.get(first.ticket.id)
    assert second.ticket.id == ticket.id
    assert (ticket.category, ticket.priority) == (Category.CARD_FRAUD, Priority.URGENT)
    assert "greeting" in ticket.explanation[-1]
    kinds = [e.kind for e in deps.tickets.events(ticket.id)]  # type: ignore[attr-defined]
    assert kinds.count("classified") == 2
    published = deps.events.events  # type: ignore[attr-defined]
    assert ("TicketClassified", True) in [(t, d.get("reclassified")) for t, d in published]


def test_a_second_greeting_leaves_the_ticket_waiting_for_its_request(deps: IntakeDeps) -> None:
    first = submit(chat("halo kak"), deps, now=T0)
    submit(chat("permisi min", "wamid.2", T0 + timedelta(minutes=1)), deps, now=T0 + timedelta(minutes=1))
    later = T0 + timedelta(minutes=2)
    submit(chat("saldo saya kepotong 2x tapi pulsa belum masuk", "wamid.3", later), deps, now=later)

    assert deps.tickets.get(first.ticket.id).category == Category.PAYMENT_REFUND


def test_a_burst_that_opens_with_a_greeting_is_filed_by_its_request(deps: IntakeDeps) -> None:
    burst = [chat("halo kak", "wamid.b0"), chat("permisi", "wamid.b1", T0 + timedelta(seconds=1)),
             chat(FRAUD, "wamid.b2", T0 + timedelta(seconds=2))]

    results = submit_all(burst, deps, now=T0 + timedelta(seconds=3))

    ticket = deps.tickets.get(results[0].ticket.id)
    assert {r.ticket.id for r in results} == {ticket.id}
    assert (ticket.category, ticket.priority) == (Category.CARD_FRAUD, Priority.URGENT)


def test_once_an_agent_answered_or_filed_it_the_customer_does_not_reclassify(deps: IntakeDeps) -> None:
    answered = submit(chat("halo kak", "wamid.a"), deps, now=T0)
    repo = deps.tickets
    repo.save(answered.ticket.agent_replied(T0 + timedelta(minutes=1)), expected_version=answered.ticket.version)
    later = T0 + timedelta(minutes=2)
    submit(chat(FRAUD, "wamid.a2", later), deps, now=later)
    assert repo.get(answered.ticket.id).category == Category.GENERAL_INQUIRY  # the agent owns it now

    other = InboundMessage(channel=Channel.WHATSAPP, external_id="wamid.c", customer="6281299999999",
                           text="halo kak", received_at=T0)
    filed = submit(other, deps, now=T0)
    update_ticket(filed.ticket.id, {"category": Category.PROFILE_UPDATE}, expected_version=filed.ticket.version,
                  agent="ani", deps=tickets_deps(deps), now=T0 + timedelta(minutes=1))
    nxt = other.model_copy(update={"external_id": "wamid.c2", "text": FRAUD, "received_at": later})
    submit(nxt, deps, now=later)
    assert repo.get(filed.ticket.id).category == Category.PROFILE_UPDATE


def tickets_deps(deps: IntakeDeps) -> TicketsDeps:
    return TicketsDeps(tickets=deps.tickets, queries=NoQueries(), corrections=ListCorrections(),
                       events=deps.events)
