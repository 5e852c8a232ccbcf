"""The agents' use cases over fakes: changes are optimistic, replies go through the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from deskintake.adapters.eventbridge_events import RecordingPublisher
from deskintake.domain.errors import ConflictError, NotFoundError
from deskintake.domain.model import (
    Category,
    Channel,
    Classification,
    InboundMessage,
    Lang,
    Priority,
    TicketStatus,
)
from deskintake.domain.ticket import Direction, Message, Ticket
from deskintake.services import tickets as svc

from tests.fakes import InMemoryTicketRepository, RecordingSender

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


class ListCorrections:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def record(self, correction: dict[str, Any]) -> None:
        self.rows.append(correction)

    def all(self, brand: str = "default") -> Iterator[dict[str, Any]]:
        return iter([r for r in self.rows if r["brand"] == brand])


class NoQueries:
    def list(self, query: svc.TicketQuery) -> svc.TicketPage:
        raise AssertionError("not used here")

    def counts(self, brand: str = "default", *, since: str | None = None) -> dict[str, Any]:
        raise AssertionError("not used here")

    def forget_counts(self, brand: str = "default") -> None:
        return None


class RecordingFollowUps:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def ticket_changed(self, ticket: Ticket, *, now: datetime, reason: str) -> None:
        self.calls.append((ticket.id, str(ticket.status), reason))


def inbound(text: str = "Pulsa belum masuk, status masih pending", *, channel: Channel = Channel.EMAIL,
            ext: str = "<m1@mail.example.id>", at: datetime = NOW - timedelta(minutes=30)) -> InboundMessage:
    return InboundMessage(channel=channel, external_id=ext, customer="budi@example.id",
                          customer_name="Budi", subject="Pulsa belum masuk", text=text, lang=Lang.ID,
                          received_at=at, meta={"platform_message_id": "wamid.1"})


@pytest.fixture
def world() -> dict[str, Any]:
    repo = InMemoryTicketRepository()
    sender = RecordingSender()
    events = RecordingPublisher()
    follow = RecordingFollowUps()
    corrections = ListCorrections()
    deps = svc.TicketsDeps(tickets=repo, queries=NoQueries(), corrections=corrections, events=events,
                           senders={Channel.EMAIL: sender, Channel.WHATSAPP: sender},
                           follow_ups=follow)
    return {"repo": repo, "sender": sender, "events": events, "follow": follow,
            "corrections": corrections, "deps": deps}


def file_ticket(repo: InMemoryTicketRepository, message: InboundMessage | None = None,
                category: Category = Category.ORDER_PENDING) -> Ticket:
    message = message or inbound()
    ticket = Ticket.open(message, Classification(category=category, priority=Priority.HIGH,
                                                 confidence=0.4, lang=Lang.ID, needs_triage=True),
                         ticket_id="TKT-ABCDE12")
    repo.create(ticket, Message.from_inbound(ticket.id, message), open_key=None)
    return ticket


def test_a_status_change_based_on_the_current_version_is_saved_with_a_timeline_entry(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])

    updated = svc.update_ticket(ticket.id, {"status": TicketStatus.WAITING}, expected_version=ticket.version,
                                agent="ana@desk", deps=world["deps"], now=NOW)

    assert world["repo"].get(ticket.id).status == TicketStatus.WAITING
    assert updated.version == ticket.version + 1
    (event,) = [e for e in world["repo"].events(ticket.id) if e.kind == "status_changed"]
    assert (event.actor, event.detail) == ("ana@desk", {"from": "open", "to": "waiting"})
    assert world["follow"].calls == [(ticket.id, "waiting", "status_changed")]
    assert world["events"].events[-1][0] == "TicketUpdated"


def test_a_change_based_on_a_stale_version_is_refused_and_nothing_is_overwritten(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])
    svc.update_ticket(ticket.id, {"assignee": "ana@desk"}, expected_version=ticket.version,
                      agent="ana@desk", deps=world["deps"], now=NOW)

    with pytest.raises(ConflictError):
        svc.update_ticket(ticket.id, {"assignee": "joko@desk"}, expected_version=ticket.version,
                          agent="joko@desk", deps=world["deps"], now=NOW)

    assert world["repo"].get(ticket.id).assignee == "ana@desk"


def test_closing_sets_closed_at_and_reopening_clears_it(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])
    closed = svc.update_ticket(ticket.id, {"status": TicketStatus.CLOSED}, expected_version=1,
                               agent="a", deps=world["deps"], now=NOW)
    assert closed.closed_at == NOW
    reopened = svc.update_ticket(ticket.id, {"status": TicketStatus.OPEN}, expected_version=closed.version,
                                 agent="a", deps=world["deps"], now=NOW + timedelta(minutes=1))
    assert reopened.closed_at is None


def test_a_category_correction_clears_triage_and_is_kept_for_retraining(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"], category=Category.GENERAL_INQUIRY)

    updated = svc.update_ticket(ticket.id, {"category": Category.ORDER_PENDING}, expected_version=1,
                                agent="ana@desk", deps=world["deps"], now=NOW)

    assert (updated.category, updated.needs_triage) == (Category.ORDER_PENDING, False)
    (row,) = world["corrections"].rows
    assert row["old_category"] == "general_inquiry" and row["new_category"] == "order_pending"
    assert row["text"] == "Pulsa belum masuk, status masih pending" and row["lang"] == "id"
    assert list(svc.training_rows(world["corrections"].all())) == [
        {"subject": "Pulsa belum masuk", "text": "Pulsa belum masuk, status masih pending",
         "category": "order_pending", "lang": "id"}]


def test_a_ticket_corrected_twice_exports_once_with_the_last_category() -> None:
    rows = [{"ticket_id": "TKT-1", "new_category": "complaint", "subject": "s", "text": "t", "lang": "en"},
            {"ticket_id": "TKT-1", "new_category": "feedback", "subject": "s", "text": "t", "lang": "en"}]
    assert [r["category"] for r in svc.training_rows(iter(rows))] == ["feedback"]


def test_an_unchanged_value_is_not_a_change(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])
    same = svc.update_ticket(ticket.id, {"priority": Priority.HIGH}, expected_version=1,
                             agent="a", deps=world["deps"], now=NOW)
    assert same.version == ticket.version
    assert not world["corrections"].rows and not world["follow"].calls


def test_an_email_reply_goes_out_threaded_under_the_customers_message(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])

    updated, sent = svc.reply(ticket.id, "Mohon ditunggu 15 menit ya, Kak.", agent="ana@desk",
                              deps=world["deps"], now=NOW, expected_version=1,
                              status_after=TicketStatus.WAITING)

    ((out_ticket, out_message),) = world["sender"].sent
    assert out_message.meta["in_reply_to"] == "<m1@mail.example.id>"
    assert out_message.subject == "Re: [TKT-ABCDE12] Pulsa belum masuk"
    assert sent.delivery_status == "sent"
    stored = world["repo"].get(ticket.id)
    assert stored.first_response_at == NOW and stored.status == TicketStatus.WAITING
    assert stored.message_count == 2
    thread = world["repo"].messages(ticket.id)
    assert [m.direction for m in thread] == [Direction.INBOUND, Direction.OUTBOUND]
    # The reply's platform id threads the customer's answer back to this ticket.
    assert world["repo"].find_message(Channel.EMAIL, sent.external_id or "") == (ticket.id, sent.id)


def test_a_reply_that_cannot_be_delivered_is_kept_as_failed_and_the_ticket_stays_unanswered(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])
    world["deps"].senders = {Channel.EMAIL: RecordingSender(fail=True)}

    same, sent = svc.reply(ticket.id, "Halo", agent="a", deps=world["deps"], now=NOW)

    assert sent.delivery_status == "failed"
    assert world["repo"].get(ticket.id).first_response_at is None
    assert [m.delivery_status for m in world["repo"].messages(ticket.id) if m.direction == Direction.OUTBOUND] == ["failed"]


def test_a_reply_based_on_a_stale_version_is_not_sent(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])
    svc.update_ticket(ticket.id, {"assignee": "joko"}, expected_version=1, agent="joko",
                      deps=world["deps"], now=NOW)

    with pytest.raises(ConflictError):
        svc.reply(ticket.id, "Halo", agent="a", deps=world["deps"], now=NOW, expected_version=1)
    assert world["sender"].sent == []


def test_a_chat_reply_goes_out_on_the_chat_channel_quoting_the_platform_message(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"], inbound(channel=Channel.WHATSAPP, ext="wamid.1"))

    svc.reply(ticket.id, "Siap kak", agent="a", deps=world["deps"], now=NOW)

    ((_, message),) = world["sender"].sent
    assert message.channel == Channel.WHATSAPP and message.subject == ""
    assert message.meta["reply_to_platform_id"] == "wamid.1" and message.meta["in_reply_to"] is None


def test_a_note_is_stored_on_the_thread_and_never_sent(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])

    note = svc.add_note(ticket.id, "  Sudah cek ke operator  ", agent="ana@desk", deps=world["deps"], now=NOW)

    assert world["sender"].sent == []
    detail = svc.ticket_detail(ticket.id, world["deps"], now=NOW)
    assert [n.text for n in detail.notes] == ["Sudah cek ke operator"] and note.author == "ana@desk"
    assert all(m.direction != Direction.NOTE for m in detail.messages)


def test_unknown_tickets_are_not_found(world: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError):
        svc.ticket_detail("TKT-NOPE000", world["deps"], now=NOW)
    with pytest.raises(NotFoundError):
        svc.add_note("TKT-NOPE000", "x", agent="a", deps=world["deps"], now=NOW)


def test_fields_outside_the_allowed_set_cannot_be_changed(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])
    with pytest.raises(ValueError):
        svc.update_ticket(ticket.id, {"customer": "evil@example.com"}, expected_version=1, agent="a",
                          deps=world["deps"], now=NOW)


def test_detail_includes_scheduled_follow_ups_when_a_lister_is_wired(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])
    world["deps"].scheduled = lambda t: [{"kind": "pending_check", "at": "2026-11-21T03:15:00Z", "ticket": t.id}]
    detail = svc.ticket_detail(ticket.id, world["deps"], now=NOW)
    assert detail.follow_ups == [{"kind": "pending_check", "at": "2026-11-21T03:15:00Z", "ticket": ticket.id}]


@pytest.mark.parametrize("subject,expected", [
    ("Re: RE: Pulsa belum masuk", "Re: [TKT-ABCDE12] Pulsa belum masuk"),
    ("回复：积分", "Re: [TKT-ABCDE12] 积分"),
    ("[TKT-ABCDE12] Pulsa", "Re: [TKT-ABCDE12] Pulsa"),
])
def test_reply_subjects_carry_the_ticket_number_once(subject: str, expected: str) -> None:
    ticket = Ticket(id="TKT-ABCDE12", channel=Channel.EMAIL, customer="c", subject=subject,
                    category=Category.COMPLAINT, priority=Priority.NORMAL, created_at=NOW, updated_at=NOW)
    assert svc.reply_subject(ticket) == expected


def test_the_planners_business_hours_sla_check_sets_the_detail_badge(world: dict[str, Any]) -> None:
    ticket = file_ticket(world["repo"])  # high priority, 30 minutes old: wall clock says "ok"
    due = NOW + timedelta(minutes=10)  # the planner moved it to the next opening hour
    world["deps"].scheduled = lambda t: [{"kind": "first_response", "due_at": due.isoformat(), "key": "k"}]

    detail = svc.ticket_detail(ticket.id, world["deps"], now=NOW)

    assert (detail.sla.state, detail.sla.due_at) == ("due_soon", due)
