"""Chat intake: a parsed webhook batch is filed through the same core as email.

Messages go through `intake.submit` (dedupe by platform id, one open ticket per customer per
channel, repeat counting, classification with the pre-chat hint, acknowledgement via the
outbox). Status updates move our outbound message's delivery state forward only; edits rewrite
the stored (masked) text and keep what it said before in the message's metadata.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deskintake.domain.model import Channel, InboundMessage
from deskintake.domain.ticket import Direction, Message, TimelineEvent
from deskintake.inbound.chat import ChatBatch, MessageEdit, StatusUpdate
from deskintake.ports import FailureLog, RawStore, TicketRepository
from deskintake.services.intake import (
    IntakeDeps,
    IntakeResult,
    brands_of,
    open_key_for,
    submit,
    submit_all,
)

log = logging.getLogger(__name__)

# Delivery states only move forward: a late "delivered" must not undo "read".
_RANK = {None: 0, "queued": 1, "sent": 2, "delivered": 3, "read": 4}


@dataclass
class ChatIntakeDeps:
    intake: IntakeDeps
    raw: RawStore | None = None
    failures: FailureLog | None = None  # chats no brand owns are reported here


NO_BRAND = "no brand owns "
_CHANNEL_ID_KEYS = {Channel.WHATSAPP: "phone_number_id", Channel.TELEGRAM: "bot_id",
                    Channel.LIVECHAT: "site_id"}


def channel_id_of(inbound: InboundMessage, fallback: str | None = None) -> str | None:
    """The platform id of the brand's channel this message came in on."""
    value = inbound.meta.get(_CHANNEL_ID_KEYS.get(inbound.channel, ""))
    return str(value) if value else fallback


def route(inbound: InboundMessage, deps: ChatIntakeDeps, channel_id: str | None) -> InboundMessage | None:
    """The message tagged with the brand of its channel, or None when no brand owns it."""
    brand = brands_of(deps.intake).for_channel(inbound.channel, channel_id_of(inbound, channel_id))
    if brand is None:
        return None
    return inbound.model_copy(update={"meta": {**inbound.meta, "brand": brand.id}})


def channel_from_reason(reason: str) -> str | None:
    """The channel id a "no brand owns" chat failure names (for `deskintake reprocess`)."""
    if not reason.startswith(NO_BRAND):
        return None
    _, _, rest = reason.partition(" channel ")
    return rest.strip() or None


@dataclass
class ChatOutcome:
    """What a webhook body did; returned to the platform (and to `deskintake chat-send`)."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    statuses_applied: int = 0
    statuses_unmatched: int = 0
    edits_applied: int = 0
    ignored: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "tickets": self.tickets,
            "statuses_applied": self.statuses_applied,
            "statuses_unmatched": self.statuses_unmatched,
            "edits_applied": self.edits_applied,
            "ignored": self.ignored,
        }


def process(batch: ChatBatch, deps: ChatIntakeDeps, *, body: bytes, now: datetime,
            channel_id: str | None = None) -> ChatOutcome:
    """File every message, apply every status and edit of one authenticated webhook body.

    Each message goes to the brand of its channel (WhatsApp phone_number_id, the Telegram bot
    id the webhook URL names as `channel_id`, the widget's site_id); a channel no brand owns
    (and no default brand) is kept in the raw store and reported, not filed.
    """
    outcome = ChatOutcome(ignored=list(batch.ignored))
    if batch.stores_content and deps.raw is not None:
        # Evidence first: the messages about to be stored point at this object.
        deps.raw.put(batch.raw_key, body, content_type="application/json")
    reported: set[str] = set()
    routed: list[InboundMessage] = []
    for original in batch.messages:
        inbound = route(original, deps, channel_id)
        if inbound is None:
            unknown = channel_id_of(original, channel_id) or "(none)"
            reason = f"{NO_BRAND}{original.channel} channel {unknown}"
            outcome.ignored.append(reason)
            if deps.failures is not None and reason not in reported:
                reported.add(reason)
                deps.failures.record(source=str(original.channel), key=batch.raw_key,
                                     reason=reason, at=now)
            log.warning("chat kept: no brand owns its channel",
                        extra={"channel": str(original.channel), "channel_id": unknown})
            continue
        routed.append(inbound)
    # A burst of one customer's messages is appended in one transaction (intake.submit_all).
    outcome.tickets.extend(_filed(r) for r in submit_all(routed, deps.intake, now=now))
    repo = deps.intake.tickets
    for update in batch.statuses:
        if apply_status(update, repo, now=now):
            outcome.statuses_applied += 1
        else:
            outcome.statuses_unmatched += 1
    for edit in batch.edits:
        applied, filed = apply_edit(edit, deps, now=now, channel_id=channel_id)
        outcome.edits_applied += int(applied)
        if filed is not None:
            outcome.tickets.append(filed)
    return outcome


def _stored(repo: TicketRepository, ticket_id: str, message_id: str) -> Message | None:
    return next((m for m in repo.messages(ticket_id) if m.id == message_id), None)


def apply_status(update: StatusUpdate, repo: TicketRepository, *, now: datetime) -> bool:
    """Record the platform's delivery news on our outbound message; False if it is not ours."""
    found = repo.find_message(update.channel, update.platform_message_id)
    if found is None:
        return False
    ticket_id, message_id = found
    message = _stored(repo, ticket_id, message_id)
    if message is None or message.direction != Direction.OUTBOUND:
        return False
    current = message.delivery_status
    if update.status == "failed":
        if current in {"delivered", "read", "failed"}:
            return True  # it arrived after all, or we know already
        reason = "; ".join(update.errors) or "the platform reported a failure"
        repo.update_message(ticket_id, message_id, delivery_status="failed", failure=reason[:500])
        repo.add_event(
            TimelineEvent(
                ticket_id=ticket_id,
                at=now,
                kind="send_failed",
                detail={
                    "message_id": message_id,
                    "reason": reason[:500],
                    "channel": str(update.channel),
                },
            )
        )
        return True
    if _RANK.get(update.status, 0) > _RANK.get(current, 0) or current == "failed":
        repo.update_message(
            ticket_id,
            message_id,
            delivery_status=update.status,
            meta={**message.meta, f"{update.status}_at": update.at.isoformat()},
        )
    return True


def apply_edit(
    edit: MessageEdit, deps: ChatIntakeDeps, *, now: datetime, channel_id: str | None = None
) -> tuple[bool, dict[str, Any] | None]:
    """Rewrite the customer's stored message; file the edit as new if the original is unknown."""
    repo = deps.intake.tickets
    found = repo.find_message(edit.channel, edit.external_id)
    if found is None:
        if edit.replacement is None:
            return False, None
        replacement = route(edit.replacement, deps, channel_id)
        if replacement is None:
            return False, None
        return False, _filed(submit(replacement, deps.intake, now=now))
    ticket_id, message_id = found
    message = _stored(repo, ticket_id, message_id)
    # Only the customer who wrote a message may change it.
    if message is None or message.direction != Direction.INBOUND or message.author != edit.customer:
        return False, None
    meta = dict(message.meta)
    if edit.deleted:
        if meta.get("deleted_at"):
            return True, None
        meta["deleted_at"] = edit.at.isoformat()
        repo.update_message(ticket_id, message_id, meta=meta)
        kind = "message_deleted"
    else:
        if message.text == edit.text:
            return True, None  # a retried delivery of an edit we already applied
        history = list(meta.get("edits") or [])
        history.append({"at": edit.at.isoformat(), "previous_text": message.text})
        meta["edits"] = history[-10:]
        redactions = [r.model_dump(mode="json") for r in edit.redactions]
        repo.update_message(ticket_id, message_id, text=edit.text, redactions=redactions, meta=meta)
        kind = "message_edited"
    repo.add_event(
        TimelineEvent(
            ticket_id=ticket_id,
            at=now,
            kind=kind,
            actor="customer",
            detail={"message_id": message_id},
        )
    )
    return True, None


def widget_replies(
    repo: TicketRepository, customer: str, *, since: datetime | None, brand: str = "default"
) -> tuple[str | None, list[Message]]:
    """Our replies on the customer's open live-chat ticket newer than `since`: what the widget
    polls when no callback URL is configured. Handing them over counts as delivered."""
    ticket_id = repo.open_ticket_for(open_key_for(Channel.LIVECHAT, customer, brand))
    if ticket_id is None:
        return None, []
    replies = [
        m
        for m in repo.messages(ticket_id)
        if m.direction == Direction.OUTBOUND
        and m.delivery_status in {"sent", "delivered", "read"}
        and (since is None or m.created_at > since)
    ]
    for m in replies:
        if m.delivery_status == "sent":
            repo.update_message(ticket_id, m.id, delivery_status="delivered")
    return ticket_id, replies


def _filed(result: IntakeResult) -> dict[str, Any]:
    """What the webhook answers about one filed message."""
    return {
        "ticket_id": result.ticket.id,
        "message_id": result.message_id,
        "created": result.created,
        "duplicate": result.duplicate,
        "repeated": result.repeated,
        "acknowledged": result.acknowledged,
    }
