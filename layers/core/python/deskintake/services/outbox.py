"""The outbox: an outbound message is stored first, then sent, then marked sent or failed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from deskintake.domain.model import Channel
from deskintake.domain.ticket import Message, Ticket, TimelineEvent
from deskintake.ports import Sender, TicketRepository

log = logging.getLogger(__name__)


def deliver(
    ticket: Ticket,
    message: Message,
    *,
    tickets: TicketRepository,
    senders: Mapping[Channel, Sender],
    now: datetime,
) -> Message:
    """Store `message` as queued, send it on the ticket's channel, record the outcome.

    A send that fails leaves the message stored as `failed` with the reason, so nothing an
    agent wrote is lost and it can be sent again; the caller's ticket write is not undone.
    """
    queued = message.model_copy(update={"delivery_status": "queued"})
    tickets.add_message(queued)
    external_id, failure = send(ticket, queued, senders)
    if external_id is None:
        tickets.update_message(ticket.id, message.id, delivery_status="failed", failure=failure)
        if failure != NO_SENDER:
            tickets.add_event(send_failed(message, failure, now))
        return queued.model_copy(update={"delivery_status": "failed"})
    tickets.record_sent(ticket.id, message.id, ticket.channel, external_id)
    return queued.model_copy(update={"delivery_status": "sent", "external_id": external_id})


NO_SENDER = "no sender for channel"


def send(ticket: Ticket, message: Message, senders: Mapping[Channel, Sender]) -> tuple[str | None, str]:
    """Send on the ticket's channel: (the platform's id, "") or (None, why it failed)."""
    sender = senders.get(ticket.channel)
    if sender is None:
        return None, NO_SENDER
    try:
        return sender.send(ticket, message), ""
    except Exception as exc:  # noqa: BLE001 - any sender failure is recorded, never lost
        log.warning("outbound send failed", extra={"ticket_id": ticket.id, "error": type(exc).__name__})
        return None, f"{type(exc).__name__}: {exc}"[:500]


def send_failed(message: Message, failure: str, now: datetime) -> TimelineEvent:
    """The timeline entry for a message that could not be sent."""
    return TimelineEvent(ticket_id=message.ticket_id, at=now, kind="send_failed",
                         detail={"message_id": message.id, "reason": failure})
