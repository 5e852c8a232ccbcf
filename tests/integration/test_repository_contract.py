"""One contract, two implementations: the DynamoDB adapter in moto and the in-memory fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from deskintake.domain.errors import ConflictError, DuplicateError, NotFoundError
from deskintake.domain.model import (
    Category,
    Channel,
    Classification,
    InboundMessage,
    Lang,
    Priority,
)
from deskintake.domain.ticket import Message, Ticket, TimelineEvent

from tests.fakes import InMemoryTicketRepository

T0 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


@pytest.fixture(params=["dynamodb", "fake"])
def repo(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "fake":
        yield InMemoryTicketRepository()
        return
    from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository

    stack = request.getfixturevalue("moto_stack")
    yield DynamoTicketRepository(stack["client"]("dynamodb"), stack["env"]["DESKINTAKE_TABLE"])


def inbound(mid: str, customer: str = "a@example.net", channel: Channel = Channel.EMAIL,
            at: datetime = T0) -> InboundMessage:
    return InboundMessage(channel=channel, external_id=mid, customer=customer, subject="s",
                          text="kartu 411111******1111 dipakai orang", lang=Lang.ID, received_at=at)


def opened(mid: str, ticket_id: str = "TKT-AAAAAAA", **kw: Any) -> tuple[Ticket, Message]:
    msg = inbound(mid, **kw)
    cls = Classification(category=Category.CARD_FRAUD, priority=Priority.URGENT, confidence=0.91,
                         lang=Lang.ID, explanation=["rule: card"], entities={"card": {"last4": "1111"}})
    ticket = Ticket.open(msg, cls, ticket_id=ticket_id)
    return ticket, Message.from_inbound(ticket.id, msg)


def test_a_created_ticket_reads_back_whole(repo: Any) -> None:
    ticket, message = opened("<m1@x>")
    repo.create(ticket, message, open_key=None)

    assert repo.get(ticket.id) == ticket
    assert repo.messages(ticket.id) == [message]
    assert repo.find_message(Channel.EMAIL, "<M1@X>") == (ticket.id, message.id)


def test_the_same_external_id_cannot_be_stored_twice(repo: Any) -> None:
    ticket, message = opened("<m1@x>")
    repo.create(ticket, message, open_key=None)
    other, again = opened("m1@x", ticket_id="TKT-BBBBBBB")

    with pytest.raises(DuplicateError):
        repo.create(other, again, open_key=None)
    with pytest.raises(NotFoundError):
        repo.get("TKT-BBBBBBB")


def test_a_taken_ticket_number_or_open_conversation_is_a_conflict(repo: Any) -> None:
    ticket, message = opened("u1", channel=Channel.TELEGRAM)
    repo.create(ticket, message, open_key="telegram#a@example.net")
    same_number, m2 = opened("u2", channel=Channel.TELEGRAM)
    with pytest.raises(ConflictError):
        repo.create(same_number, m2, open_key=None)
    other, m3 = opened("u3", ticket_id="TKT-CCCCCCC", channel=Channel.TELEGRAM)
    with pytest.raises(ConflictError):
        repo.create(other, m3, open_key="telegram#a@example.net")
    assert repo.open_ticket_for("telegram#a@example.net") == ticket.id


def test_append_checks_the_version(repo: Any) -> None:
    ticket, message = opened("<m1@x>")
    repo.create(ticket, message, open_key=None)
    reply = inbound("<m2@x>", at=T0 + timedelta(minutes=1))
    updated = ticket.customer_replied(reply)
    repo.append(updated, Message.from_inbound(ticket.id, reply), expected_version=ticket.version)

    stale = ticket.customer_replied(inbound("<m3@x>"))
    with pytest.raises(ConflictError):
        repo.append(stale, Message.from_inbound(ticket.id, inbound("<m3@x>")), expected_version=ticket.version)
    assert repo.get(ticket.id).message_count == 2
    assert len(repo.messages(ticket.id)) == 2


def test_threading_finds_a_ticket_by_any_known_message_id_in_trust_order(repo: Any) -> None:
    ticket, message = opened("<m1@x>")
    repo.create(ticket, message, open_key=None)
    repo.index_message_id(Channel.EMAIL, "0100018abc-ses", ticket.id, "ack")

    found = repo.lookup(Channel.EMAIL, "<m2@x>",
                        reference_ids=["<nope@x>", "<0100018abc-ses@eu-west-1.amazonses.com>"])
    assert found.referenced_ticket == ticket.id
    assert repo.lookup(Channel.EMAIL, "<m2@x>", reference_ids=["<nope@x>"]).referenced_ticket is None


def test_repeats_and_events_and_message_updates(repo: Any) -> None:
    ticket, message = opened("u1", channel=Channel.TELEGRAM)
    repo.create(ticket, message, open_key=None)
    repo.bump_repeat(ticket.id, message.id, "u2", Channel.TELEGRAM)
    with pytest.raises(DuplicateError):
        repo.bump_repeat(ticket.id, message.id, "u2", Channel.TELEGRAM)
    repo.add_event(TimelineEvent(ticket_id=ticket.id, at=T0, kind="classified", detail={"x": 1}))
    repo.update_message(ticket.id, message.id, delivery_status="read")

    (stored,) = repo.messages(ticket.id)
    assert stored.repeat_count == 2 and stored.delivery_status == "read"
    assert [e.kind for e in repo.events(ticket.id)] == ["classified"]
    assert repo.find_message(Channel.TELEGRAM, "u2") == (ticket.id, message.id)


def test_release_open_key_only_for_its_own_ticket(repo: Any) -> None:
    ticket, message = opened("u1", channel=Channel.TELEGRAM)
    repo.create(ticket, message, open_key="telegram#x")
    repo.release_open_key("telegram#x", "TKT-OTHER00")
    assert repo.open_ticket_for("telegram#x") == ticket.id
    repo.release_open_key("telegram#x", ticket.id)
    assert repo.open_ticket_for("telegram#x") is None


def test_a_claim_is_taken_once_and_again_only_when_its_holder_died(repo: Any) -> None:
    assert repo.claim("TKT-AAAAAAA", "after_create", now=T0, stale_after_seconds=90)
    assert not repo.claim("TKT-AAAAAAA", "after_create", now=T0 + timedelta(seconds=60),
                          stale_after_seconds=90)
    assert repo.claim("TKT-AAAAAAA", "after_create", now=T0 + timedelta(seconds=120),
                      stale_after_seconds=90)
    repo.record("TKT-AAAAAAA", finish_claim="after_create")
    assert not repo.claim("TKT-AAAAAAA", "after_create", now=T0 + timedelta(days=1),
                          stale_after_seconds=90)


def test_create_stores_its_timeline_events_and_claim_in_the_same_write(repo: Any) -> None:
    ticket, message = opened("<m1@x>")
    classified = TimelineEvent(ticket_id=ticket.id, at=T0, kind="classified", detail={"c": 1})
    repo.create(ticket, message, open_key=None, events=[classified], claim=("after_create", T0))

    assert [e.kind for e in repo.events(ticket.id)] == ["classified"]
    assert not repo.claim(ticket.id, "after_create", now=T0 + timedelta(seconds=10), stale_after_seconds=90)

    other, again = opened("<m1@x>", ticket_id="TKT-BBBBBBB")
    with pytest.raises(DuplicateError):  # a refused create leaves no event or claim behind
        repo.create(other, again, open_key=None,
                    events=[TimelineEvent(ticket_id=other.id, at=T0, kind="classified")],
                    claim=("after_create", T0))
    assert repo.events(other.id) == []
    assert repo.claim(other.id, "after_create", now=T0, stale_after_seconds=90)


def test_a_stale_save_writes_neither_the_ticket_nor_its_events(repo: Any) -> None:
    ticket, message = opened("<m1@x>")
    repo.create(ticket, message, open_key=None)
    assigned = ticket.updated(T0, assignee="ani")
    event = TimelineEvent(ticket_id=ticket.id, at=T0, kind="assigned")
    repo.save(assigned, expected_version=ticket.version, events=[event])

    stale = ticket.updated(T0, assignee="budi")
    with pytest.raises(ConflictError):
        repo.save(stale, expected_version=ticket.version,
                  events=[TimelineEvent(ticket_id=ticket.id, at=T0, kind="assigned")])
    assert repo.get(ticket.id).assignee == "ani"
    assert [e.kind for e in repo.events(ticket.id)] == ["assigned"]


def test_record_sent_marks_the_message_and_indexes_the_platform_id(repo: Any) -> None:
    ticket, message = opened("<m1@x>")
    repo.create(ticket, message, open_key=None)
    out = Message(ticket_id=ticket.id, id=Message.make_id(T0, "ack"), direction="out",
                  channel=Channel.EMAIL, created_at=T0, delivery_status="queued")
    repo.add_message(out)

    repo.record_sent(ticket.id, out.id, Channel.EMAIL, "0100abc")

    stored = next(m for m in repo.messages(ticket.id) if m.id == out.id)
    assert (stored.delivery_status, stored.external_id) == ("sent", "0100abc")
    found = repo.lookup(Channel.EMAIL, "<m2@x>", reference_ids=["<0100abc@eu-west-1.amazonses.com>"])
    assert found.referenced_ticket == ticket.id


def test_lookup_reads_the_duplicate_check_open_ticket_and_reference_in_one_answer(repo: Any) -> None:
    mail, first = opened("<m1@x>")
    repo.create(mail, first, open_key=None)
    chat, hello = opened("wamid.1", ticket_id="TKT-BBBBBBB", customer="6281", channel=Channel.WHATSAPP)
    repo.create(chat, hello, open_key="whatsapp#6281")

    again = repo.lookup(Channel.EMAIL, "<M1@X>", reference_ids=["<m1@x>"])
    reply = repo.lookup(Channel.EMAIL, "<m2@x>", reference_ids=["<unknown@y>", "<m1@x>"])
    next_chat = repo.lookup(Channel.WHATSAPP, "wamid.2", open_key="whatsapp#6281")
    stranger = repo.lookup(Channel.WHATSAPP, "wamid.3", open_key="whatsapp#6299")

    assert again.seen == (mail.id, first.id)
    assert (reply.seen, reply.referenced_ticket) == (None, mail.id)
    assert (next_chat.seen, next_chat.open_ticket) == (None, chat.id)
    assert (stranger.seen, stranger.open_ticket, stranger.referenced_ticket) == (None, None, None)


def test_record_stores_the_sent_reply_its_index_event_and_claim_end_together(repo: Any) -> None:
    ticket, message = opened("<m1@x>")
    repo.create(ticket, message, open_key=None, claim=("after_create", T0))
    out = Message(ticket_id=ticket.id, id=Message.make_id(T0, "ack"), direction="out",
                  channel=Channel.EMAIL, created_at=T0, delivery_status="sent", external_id="0100abc")
    acked = ticket.updated(T0, assignee="ani")

    repo.record(ticket.id, save=(acked, ticket.version), messages=[out],
                indexes=[(Channel.EMAIL, "0100abc", out.id)],
                events=[TimelineEvent(ticket_id=ticket.id, at=T0, kind="acknowledged")],
                finish_claim="after_create")

    assert repo.get(ticket.id) == acked
    assert out in repo.messages(ticket.id)
    assert repo.find_message(Channel.EMAIL, "<0100abc>") == (ticket.id, out.id)
    assert [e.kind for e in repo.events(ticket.id)] == ["acknowledged"]
    # The finished task is never taken again, however stale its claim looks.
    assert not repo.claim(ticket.id, "after_create", now=T0 + timedelta(days=1), stale_after_seconds=1)


def test_record_on_a_stale_version_writes_nothing(repo: Any) -> None:
    ticket, message = opened("<m1@x>")
    repo.create(ticket, message, open_key=None, claim=("after_create", T0))
    repo.save(ticket.updated(T0, assignee="ani"), expected_version=ticket.version)
    out = Message(ticket_id=ticket.id, id=Message.make_id(T0, "ack"), direction="out",
                  channel=Channel.EMAIL, created_at=T0, delivery_status="sent", external_id="0100abc")

    with pytest.raises(ConflictError):
        repo.record(ticket.id, save=(ticket.updated(T0, status="waiting"), ticket.version),
                    messages=[out], indexes=[(Channel.EMAIL, "0100abc", out.id)],
                    events=[TimelineEvent(ticket_id=ticket.id, at=T0, kind="acknowledged")],
                    finish_claim="after_create")

    assert repo.get(ticket.id).assignee == "ani" and repo.get(ticket.id).status == "open"
    assert [m.id for m in repo.messages(ticket.id)] == [message.id]
    assert repo.find_message(Channel.EMAIL, "0100abc") is None and repo.events(ticket.id) == []
    assert repo.claim(ticket.id, "after_create", now=T0 + timedelta(days=1), stale_after_seconds=1)
