"""Intake over fakes: dedupe, threading in order of trust, acknowledgements, chat repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from deskintake.adapters.eventbridge_events import RecordingPublisher
from deskintake.domain.model import Category, Channel, InboundMessage, Lang, TicketStatus
from deskintake.domain.ticket import Direction, find_ticket_token
from deskintake.runtime.wiring import classify_inbound
from deskintake.services.intake import IntakeDeps, IntakeSettings, submit

from tests.fakes import InMemoryRateLimiter, InMemoryTicketRepository, RecordingSender

T0 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


@pytest.fixture
def deps() -> IntakeDeps:
    return IntakeDeps(
        tickets=InMemoryTicketRepository(),
        classify=classify_inbound,
        events=RecordingPublisher(),
        limiter=InMemoryRateLimiter(),
        senders={Channel.EMAIL: RecordingSender(), Channel.TELEGRAM: RecordingSender()},
        settings=IntakeSettings(support_address="info@support.localhost"),
    )


def mail(mid: str, *, frm: str = "budi@mail.example.net", subject: str = "Pulsa belum masuk",
         text: str = "Saya sudah bayar pulsa 50rb tapi status masih pending dari tadi, tolong dicek.",
         at: datetime = T0, **kw: object) -> InboundMessage:
    return InboundMessage(channel=Channel.EMAIL, external_id=mid, customer=frm, subject=subject,
                          text=text, lang=Lang.ID, received_at=at,
                          thread_token=find_ticket_token(subject), **kw)  # type: ignore[arg-type]


def sent(deps: IntakeDeps, channel: Channel = Channel.EMAIL) -> list:  # type: ignore[type-arg]
    return deps.senders[channel].sent  # type: ignore[attr-defined,no-any-return]


def test_a_new_mail_opens_a_ticket_and_is_acknowledged_in_the_customers_language(deps: IntakeDeps) -> None:
    result = submit(mail("<m1@x>"), deps, now=T0)

    assert result.created and result.acknowledged
    ticket = deps.tickets.get(result.ticket.id)
    assert ticket.category == Category.ORDER_PENDING
    (stored_ack,) = [m for m in deps.tickets.messages(ticket.id) if m.direction == Direction.OUTBOUND]
    assert (stored_ack.delivery_status, stored_ack.external_id) == ("sent", "out-1@amazonses.com")
    assert ticket.version == 1  # an agent who opened it at once can still save without a conflict
    (_, ack), = sent(deps)
    assert ticket.id in ack.subject and ticket.id in ack.text
    assert "15 menit" in ack.text  # what happens next, in Indonesian
    assert ack.meta["in_reply_to"] == "<m1@x>"
    kinds = [k for k, _ in deps.events.events]  # type: ignore[attr-defined]
    assert kinds == ["TicketCreated", "TicketClassified"]


def test_the_same_message_delivered_twice_makes_one_ticket_and_one_message(deps: IntakeDeps) -> None:
    first = submit(mail("<m1@x>"), deps, now=T0)
    again = submit(mail("<m1@x>"), deps, now=T0 + timedelta(minutes=3))

    assert again.duplicate and not again.created
    assert again.ticket.id == first.ticket.id
    repo = deps.tickets
    assert len(repo.tickets) == 1  # type: ignore[attr-defined]
    inbound = [m for m in repo.messages(first.ticket.id) if m.direction == Direction.INBOUND]
    assert len(inbound) == 1
    assert len(sent(deps)) == 1


def test_a_reply_to_our_acknowledgement_joins_the_ticket(deps: IntakeDeps) -> None:
    first = submit(mail("<m1@x>"), deps, now=T0)
    (ack_id,) = [m.external_id for m in deps.tickets.messages(first.ticket.id)
                 if m.direction == Direction.OUTBOUND]
    reply = mail("<m2@x>", subject="Re: something else entirely", text="Sudah 30 menit masih pending",
                 in_reply_to=f"<{ack_id.split('@')[0]}@ap-southeast-1.amazonses.com>",
                 at=T0 + timedelta(minutes=30))

    result = submit(reply, deps, now=T0 + timedelta(minutes=30))

    assert result.ticket.id == first.ticket.id and not result.created
    assert deps.tickets.get(first.ticket.id).message_count == 2
    assert len(sent(deps)) == 1  # replies are not acknowledged again


def test_any_stored_message_id_in_references_threads_the_reply(deps: IntakeDeps) -> None:
    first = submit(mail("<m1@x>"), deps, now=T0)
    reply = mail("<m3@x>", frm="colleague@mail.example.net", subject="Fwd: status",
                 text="Saya rekan Budi, ada update?", references=["<unknown@y>", "<m1@x>"])

    assert submit(reply, deps, now=T0).ticket.id == first.ticket.id


def test_the_ticket_token_threads_only_for_the_tickets_own_customer(deps: IntakeDeps) -> None:
    first = submit(mail("<m1@x>"), deps, now=T0)
    token = first.ticket.id
    own = submit(mail("<m4@x>", subject=f"[{token}] tambahan info", text="Ini bukti transfer"), deps, now=T0)
    stranger = submit(mail("<m5@x>", frm="mallory@evil.example", subject=f"Re: [{token}]",
                           text="Tolong ubah email akun saya"), deps, now=T0)

    assert own.ticket.id == token and not own.created
    assert stranger.created and stranger.ticket.id != token
    assert stranger.ticket.customer == "mallory@evil.example"


def test_the_same_subject_alone_never_threads(deps: IntakeDeps) -> None:
    first = submit(mail("<m1@x>"), deps, now=T0)
    second = submit(mail("<m6@x>"), deps, now=T0 + timedelta(hours=1))

    assert second.created and second.ticket.id != first.ticket.id


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"is_auto": True, "auto_reason": "Auto-Submitted: auto-replied"}, "automatic"),
        ({"frm": "MAILER-DAEMON@mx.example.net"}, "does not take replies"),
        ({"frm": "info@support.localhost"}, "own address"),
        ({"subject": "SLOT GACOR MAXWIN", "text": "Situs slot gacor resmi, bonus new member 100% "
          "deposit pulsa tanpa potongan, daftar sekarang gampang maxwin"}, "spam"),
    ],
)
def test_robots_spam_and_our_own_mail_get_no_acknowledgement(
    deps: IntakeDeps, overrides: dict[str, object], reason: str
) -> None:
    result = submit(mail("<auto@x>", **overrides), deps, now=T0)  # type: ignore[arg-type]

    assert result.created and not result.acknowledged
    assert sent(deps) == []
    skipped = [e for e in deps.tickets.events(result.ticket.id) if e.kind == "ack_skipped"]
    assert reason in skipped[0].detail["reason"]


def test_acknowledgements_are_limited_per_sender_per_hour(deps: IntakeDeps) -> None:
    results = [submit(mail(f"<burst{i}@x>", subject=f"Masalah {i}"), deps, now=T0 + timedelta(minutes=i))
               for i in range(5)]

    assert [r.acknowledged for r in results] == [True, True, True, False, False]
    assert all(r.created for r in results)


def test_a_reply_to_a_closed_ticket_opens_a_new_one_linked_to_it(deps: IntakeDeps) -> None:
    first = submit(mail("<m1@x>"), deps, now=T0)
    closed = deps.tickets.get(first.ticket.id).with_status(TicketStatus.CLOSED, T0)
    deps.tickets.save(closed, expected_version=closed.version - 1)

    again = submit(mail("<m7@x>", in_reply_to="<m1@x>", text="Masih belum masuk juga!"), deps,
                   now=T0 + timedelta(days=5))

    assert again.created and again.ticket.linked_ticket == first.ticket.id


def test_a_reply_reopens_a_resolved_ticket(deps: IntakeDeps) -> None:
    first = submit(mail("<m1@x>"), deps, now=T0)
    resolved = deps.tickets.get(first.ticket.id).with_status(TicketStatus.RESOLVED, T0)
    deps.tickets.save(resolved, expected_version=resolved.version - 1)

    again = submit(mail("<m8@x>", in_reply_to="<m1@x>", text="Belum masuk"), deps, now=T0)

    assert again.ticket.id == first.ticket.id
    assert deps.tickets.get(first.ticket.id).status == TicketStatus.OPEN


def chat(mid: str, text: str, at: datetime) -> InboundMessage:
    return InboundMessage(channel=Channel.TELEGRAM, external_id=mid, customer="tg:4242", text=text,
                          lang=Lang.ID, received_at=at)


def test_chat_messages_from_one_customer_share_one_open_ticket_and_repeats_are_counted(deps: IntakeDeps) -> None:
    first = submit(chat("u1", "min saldo OVO sy blm masuk padahal udh transfer", T0), deps, now=T0)
    repeats = [submit(chat(f"u{i}", "min saldo OVO sy blm masuk padahal udh transfer",
                           T0 + timedelta(seconds=10 * i)), deps, now=T0) for i in range(2, 6)]
    later = submit(chat("u9", "halo??", T0 + timedelta(minutes=5)), deps, now=T0)

    assert all(r.repeated and r.ticket.id == first.ticket.id for r in repeats)
    assert later.ticket.id == first.ticket.id and not later.repeated
    inbound = [m for m in deps.tickets.messages(first.ticket.id) if m.direction == Direction.INBOUND]
    assert [m.repeat_count for m in inbound] == [5, 1]
    assert len(sent(deps, Channel.TELEGRAM)) == 1


def test_a_failed_acknowledgement_is_kept_as_a_failed_outbound_message(deps: IntakeDeps) -> None:
    deps.senders = {Channel.EMAIL: RecordingSender(fail=True)}

    result = submit(mail("<m1@x>"), deps, now=T0)

    assert result.created and not result.acknowledged
    outbound = [m for m in deps.tickets.messages(result.ticket.id) if m.direction == Direction.OUTBOUND]
    assert [m.delivery_status for m in outbound] == ["failed"]


class _DiesOnceAfterCreate(RecordingPublisher):
    """The first publish, right after the ticket is stored, dies as a Lambda timing out would."""

    def __init__(self) -> None:
        super().__init__()
        self.died = False

    def publish_many(self, events):  # type: ignore[no-untyped-def]
        if not self.died:
            self.died = True
            raise TimeoutError("Lambda timed out")
        super().publish_many(events)


def test_a_retry_after_a_crash_between_storing_and_acknowledging_still_acknowledges_once(
    deps: IntakeDeps,
) -> None:
    deps.events = _DiesOnceAfterCreate()
    with pytest.raises(TimeoutError):
        submit(mail("<m1@x>"), deps, now=T0)
    assert sent(deps) == []  # the ticket is stored, the customer heard nothing

    too_soon = submit(mail("<m1@x>"), deps, now=T0 + timedelta(seconds=30))  # maybe still running
    assert too_soon.duplicate and not too_soon.acknowledged and sent(deps) == []

    retried = submit(mail("<m1@x>"), deps, now=T0 + timedelta(minutes=2))
    again = submit(mail("<m1@x>"), deps, now=T0 + timedelta(minutes=5))

    assert retried.duplicate and retried.acknowledged and not again.acknowledged
    assert len(deps.tickets.tickets) == 1  # type: ignore[attr-defined]
    assert len(sent(deps)) == 1
    assert [k for k, _ in deps.events.events] == ["TicketCreated", "TicketClassified"]  # type: ignore[attr-defined]
