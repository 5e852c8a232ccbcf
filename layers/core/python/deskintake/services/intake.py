"""Intake: an inbound message becomes a new ticket or joins the ticket it belongs to."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from deskintake.domain import acks
from deskintake.domain.brands import Brand, BrandsConfig
from deskintake.domain.errors import ConflictError, DuplicateError, NotFoundError, TransientError
from deskintake.domain.greetings import GREETING_RULE
from deskintake.domain.model import Category, Channel, Classification, InboundMessage
from deskintake.domain.ticket import (
    Direction,
    Message,
    Ticket,
    TimelineEvent,
    new_ticket_id,
    text_digest,
)
from deskintake.ports import (
    EventPublisher,
    FollowUps,
    Lookup,
    NoFollowUps,
    RateLimiter,
    Sender,
    TicketRepository,
)
from deskintake.services import outbox

log = logging.getLogger(__name__)

_NO_REPLY = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|noreply[-.+].*|bounces?[-+].*)@",
    re.IGNORECASE,
)


class IntakeSettings(BaseModel):
    """Operator settings for intake (from the environment at the edge)."""

    support_address: str = "info@support.localhost"
    own_addresses: frozenset[str] = frozenset()
    ack_enabled: bool = True
    ack_limit_per_hour: int = 3
    repeat_window_seconds: int = 60
    brand: str = "default"


@dataclass
class IntakeDeps:
    """What intake needs, passed in (adapters in the cloud, fakes in unit tests)."""

    tickets: TicketRepository
    classify: Callable[[InboundMessage], Classification]
    events: EventPublisher
    limiter: RateLimiter
    senders: Mapping[Channel, Sender] = field(default_factory=dict)
    follow_ups: FollowUps = field(default_factory=NoFollowUps)
    settings: IntakeSettings = field(default_factory=IntakeSettings)
    brands: BrandsConfig | None = None  # None: the active configuration (runtime.brands)


def brands_of(deps: IntakeDeps) -> BrandsConfig:
    """The brands configuration intake works with."""
    if deps.brands is not None:
        return deps.brands
    from deskintake.runtime.brands import active  # the operator's file / parameter, if any

    return active()


def brand_of(inbound: InboundMessage, deps: IntakeDeps) -> Brand:
    """The brand routing chose for this message (meta["brand"]), else the settings' brand."""
    return brands_of(deps).get(str(inbound.meta.get("brand") or deps.settings.brand))


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    message_id: str
    created: bool
    duplicate: bool = False
    repeated: bool = False
    acknowledged: bool = False


_ATTEMPTS = 5


def submit(inbound: InboundMessage, deps: IntakeDeps, *, now: datetime) -> IntakeResult:
    """File `inbound`: deduplicate, thread, classify, store, acknowledge, plan follow-ups.

    Safe to call again with the same delivery: the second call stores nothing and returns
    the ticket the first one filed. Races between concurrent deliveries are settled by the
    repository's conditional writes, after which the loser re-reads and tries again.
    """
    open_key = _open_key(inbound, brand_of(inbound, deps).id)
    references = _reference_ids(inbound)
    # A first mail with nothing to thread by needs no read at all: the create transaction's
    # condition on the message's index item is the duplicate check. Everything else reads the
    # duplicate check, the open chat ticket and the referenced ticket in one request.
    must_look = open_key is not None or bool(references)
    for _ in range(_ATTEMPTS):
        found = (deps.tickets.lookup(inbound.channel, inbound.external_id, open_key=open_key,
                                     reference_ids=references) if must_look else Lookup())
        if (seen := found.seen) is not None:
            ticket, acknowledged = _finish_interrupted_create(
                deps.tickets.get(seen[0]), seen[1], inbound, deps, now=now)
            return IntakeResult(ticket=ticket, message_id=seen[1], created=False, duplicate=True,
                                acknowledged=acknowledged)
        existing = _thread(inbound, deps, open_key, found)
        must_look = True  # any retry re-reads what changed
        try:
            if existing is not None and existing.status != "closed":
                return _append(existing, inbound, deps, now=now)
            linked = existing.id if existing is not None else None
            return _create(inbound, deps, open_key=open_key, linked=linked, now=now)
        except DuplicateError:
            continue  # stored already (a redelivery, or a concurrent one won): the lookup says where
        except ConflictError:
            continue  # a concurrent write to the thread; re-read and try again
    raise TransientError(f"could not file message {inbound.external_id!r} after {_ATTEMPTS} attempts")


_BURST_LIMIT = 40  # messages a transaction takes: 2 items each + the ticket, under 100


def submit_all(messages: Sequence[InboundMessage], deps: IntakeDeps, *, now: datetime) -> list[IntakeResult]:
    """File a delivery's messages in order, like `submit` one by one, but cheaper in a burst.

    A chat customer who sends several messages at once (a WhatsApp delivery can carry many)
    gets the first filed as usual and the rest appended to that ticket together: one read of
    their duplicate checks and one transaction, one event and one follow-up re-plan, instead
    of about six requests each. Anything unusual in the run (a repeat, a stored duplicate, a
    concurrent change) files the rest one by one, which is always correct.
    """
    results: list[IntakeResult] = []
    start = 0
    while start < len(messages):
        end = start + 1
        while (end < len(messages) and end - start <= _BURST_LIMIT
               and _same_conversation(messages[start], messages[end])):
            end += 1
        first = submit(messages[start], deps, now=now)
        results.append(first)
        rest = messages[start + 1:end]
        if rest:
            results.extend(_append_burst(first.ticket, rest, deps, now=now)
                           or [submit(m, deps, now=now) for m in rest])
        start = end
    return results


def _same_conversation(a: InboundMessage, b: InboundMessage) -> bool:
    return (a.channel != Channel.EMAIL and (a.channel, a.customer, a.meta.get("brand"))
            == (b.channel, b.customer, b.meta.get("brand")))


def _append_burst(ticket: Ticket, rest: Sequence[InboundMessage], deps: IntakeDeps, *,
                  now: datetime) -> list[IntakeResult] | None:
    """The rest of a burst appended to `ticket` in one write, or None to file them one by one."""
    repo = deps.tickets
    if not ticket.is_open:
        return None
    ids = [m.external_id for m in rest]
    if len(set(ids)) != len(ids) or repo.find_messages(rest[0].channel, ids):
        return None
    updated, stored = ticket, []
    for inbound in rest:
        if _repeat_of(updated, inbound, deps) is not None:
            return None  # a repeat: counted by `submit`, not stored
        stored.append(Message.from_inbound(ticket.id, inbound))
        updated = updated.customer_replied(inbound)
    updated, events, published = _on_request(updated, rest, deps, now=now)
    try:
        repo.append_many(updated, stored, expected_version=ticket.version, events=events)
    except (DuplicateError, ConflictError):
        return None
    deps.events.publish_many([("TicketUpdated", {**_event_detail(updated), "change": "customer_replied",
                                                 "messages": len(stored)}), *published])
    deps.follow_ups.ticket_changed(updated, now=now, reason="customer_replied")
    return [IntakeResult(ticket=updated, message_id=m.id, created=False) for m in stored]


def _open_key(inbound: InboundMessage, brand: str = "default") -> str | None:
    """Chat channels keep one open ticket per customer per channel (and brand: one customer may
    write to two brands' numbers); email threads by headers."""
    if inbound.channel == Channel.EMAIL:
        return None
    return open_key_for(inbound.channel, inbound.customer, brand)


def open_key_for(channel: Channel, customer: str, brand: str = "default") -> str:
    """The default brand keeps the original key shape, so existing open threads still match."""
    key = f"{channel}#{customer}"
    return key if brand == "default" else f"{brand}#{key}"


def _reference_ids(inbound: InboundMessage) -> list[str]:
    """An email's In-Reply-To and References, most trusted first (chat has none)."""
    if inbound.channel != Channel.EMAIL:
        return []
    return [mid for mid in [inbound.in_reply_to, *reversed(inbound.references)] if mid]


def _thread(inbound: InboundMessage, deps: IntakeDeps, open_key: str | None,
            found: Lookup) -> Ticket | None:
    """The ticket this message continues, in order of trust; never by subject text alone."""
    repo = deps.tickets
    if open_key is not None:
        return _get_or_none(repo, found.open_ticket)
    if found.referenced_ticket is not None:
        return _get_or_none(repo, found.referenced_ticket)
    if inbound.thread_token:
        ticket = _get_or_none(repo, inbound.thread_token)
        # A token only counts from the ticket's own customer: anyone can type a ticket number.
        if ticket is not None and ticket.customer.lower() == inbound.customer.lower():
            return ticket
    return None


def _get_or_none(repo: TicketRepository, ticket_id: str | None) -> Ticket | None:
    if ticket_id is None:
        return None
    try:
        return repo.get(ticket_id)
    except NotFoundError:
        return None


def _create(
    inbound: InboundMessage,
    deps: IntakeDeps,
    *,
    open_key: str | None,
    linked: str | None,
    now: datetime,
) -> IntakeResult:
    brand = brand_of(inbound, deps)
    classification = restrict_to_brand(deps.classify(inbound), brand)
    ticket = Ticket.open(inbound, classification, ticket_id=new_ticket_id(),
                         brand=brand.id, linked_ticket=linked)
    message = Message.from_inbound(ticket.id, inbound)
    if linked is not None and open_key is not None:
        deps.tickets.release_open_key(open_key, linked)
    classified = _classified(ticket, now)
    # One transaction: the ticket, its message, the classification on the timeline, and the
    # claim on what follows (events, acknowledgement, follow-ups), so a crash leaves no gap.
    deps.tickets.create(ticket, message, open_key=open_key, events=[classified],
                        claim=(AFTER_CREATE, now))
    ticket, acknowledged = _after_create(ticket, inbound, deps, now=now)
    return IntakeResult(ticket=ticket, message_id=message.id, created=True, acknowledged=acknowledged)


def _after_create(ticket: Ticket, inbound: InboundMessage, deps: IntakeDeps, *,
                  now: datetime) -> tuple[Ticket, bool]:
    """What follows storing a new ticket; run again when a retry finds it was interrupted.

    The acknowledgement comes last because its write also ends the claim: follow-ups do not
    depend on it, and a crash before that write leaves the claim open for a retry to finish.
    """
    deps.events.publish_many([
        ("TicketCreated", _event_detail(ticket)),
        ("TicketClassified", {**_event_detail(ticket), "confidence": ticket.confidence,
                              "needs_triage": ticket.needs_triage}),
    ])
    deps.follow_ups.ticket_changed(ticket, now=now, reason="created")
    return _acknowledge(ticket, inbound, deps, now=now)


AFTER_CREATE = "after_create"
# Longer than the function's timeout: a claim this old whose holder never finished is dead.
CLAIM_STALE_SECONDS = 90


def _finish_interrupted_create(ticket: Ticket, message_id: str, inbound: InboundMessage,
                               deps: IntakeDeps, *, now: datetime) -> tuple[Ticket, bool]:
    """A redelivery of the message that opened `ticket` completes what a crash cut short.

    The ticket and its first message are stored in one transaction, but the events, the
    acknowledgement and the follow-up plan come after it, under a claim. If the first attempt
    died in between (Lambda retries it, or `deskintake redrive` replays it), its claim goes
    stale and the redelivery takes it over; a concurrent duplicate finds the claim live and
    leaves it alone, so the customer is acknowledged exactly once.
    """
    opened_by_this = message_id == Message.make_id(ticket.created_at, inbound.external_id)
    if not opened_by_this or ticket.ack_message_id is not None:  # set on tickets of older versions
        return ticket, False
    if not deps.tickets.claim(ticket.id, AFTER_CREATE, now=now, stale_after_seconds=CLAIM_STALE_SECONDS):
        return ticket, False
    log.info("completing an interrupted intake", extra={"ticket_id": ticket.id})
    return _after_create(ticket, inbound, deps, now=now)


def restrict_to_brand(classification: Classification, brand: Brand) -> Classification:
    """A category the brand does not use is filed under its fallback, for an agent to triage."""
    if brand.allows(classification.category):
        return classification
    why = (f"brand {brand.id}: category {classification.category} is not one of its categories;"
           f" filed under {brand.fallback_category} for triage")
    return classification.model_copy(update={
        "category": brand.fallback_category, "needs_triage": True,
        "explanation": [*classification.explanation, why]})


def _append(ticket: Ticket, inbound: InboundMessage, deps: IntakeDeps, *, now: datetime) -> IntakeResult:
    repo = deps.tickets
    if (previous := _repeat_of(ticket, inbound, deps)) is not None:
        repo.bump_repeat(ticket.id, previous, inbound.external_id, inbound.channel)
        return IntakeResult(ticket=ticket, message_id=previous, created=False, repeated=True)
    message = Message.from_inbound(ticket.id, inbound)
    updated, events, published = _on_request(ticket.customer_replied(inbound), [inbound], deps, now=now)
    repo.append(updated, message, expected_version=ticket.version, events=events)
    deps.events.publish_many([("TicketUpdated", {**_event_detail(updated), "change": "customer_replied"}),
                              *published])
    deps.follow_ups.ticket_changed(updated, now=now, reason="customer_replied")
    return IntakeResult(ticket=updated, message_id=message.id, created=False)


def _on_request(ticket: Ticket, said: Sequence[InboundMessage], deps: IntakeDeps, *,
                now: datetime) -> tuple[Ticket, list[TimelineEvent], list[tuple[str, dict[str, Any]]]]:
    """A ticket filed from a greeting alone is classified on the messages that follow it.

    "halo kak" files a general inquiry at normal priority; when the same customer then writes
    that their card was used by someone else, the ticket becomes card fraud, urgent, before any
    agent has answered. Returns the ticket, its timeline entry and the event to publish.
    """
    texts = [m.text for m in said if m.text.strip()]
    if not ticket.awaits_request or not texts:
        return ticket, [], []
    request = said[-1].model_copy(update={"text": "\n".join(texts)})
    classification = restrict_to_brand(deps.classify(request), brand_of(said[-1], deps))
    if classification.explanation and GREETING_RULE in classification.explanation[0]:
        return ticket, [], []  # another greeting: the request is still to come
    updated = ticket.reclassified(classification)
    event = _classified(updated, now, reason="the first message was a greeting")
    detail = {**_event_detail(updated), "confidence": updated.confidence,
              "needs_triage": updated.needs_triage, "reclassified": True}
    return updated, [event], [("TicketClassified", detail)]


def _classified(ticket: Ticket, now: datetime, **extra: Any) -> TimelineEvent:
    return TimelineEvent(
        ticket_id=ticket.id, at=now, kind="classified",
        detail={"category": ticket.category, "priority": ticket.priority,
                "confidence": round(ticket.confidence, 3), "needs_triage": ticket.needs_triage,
                "explanation": ticket.explanation, "model_version": ticket.model_version, **extra},
    )


def _repeat_of(ticket: Ticket, inbound: InboundMessage, deps: IntakeDeps) -> str | None:
    """The same text again from a chat customer within the window is counted, not stored anew.

    Returns the id of the message it repeats. The ticket carries its last customer message's
    fingerprint; a ticket stored before it did has its thread read instead.
    """
    if inbound.channel == Channel.EMAIL or not inbound.text.strip():
        return None
    window = timedelta(seconds=deps.settings.repeat_window_seconds)
    last_id, digest, last_at = ticket.last_inbound_id, ticket.last_inbound_digest, ticket.last_customer_message_at
    if last_id is None or digest is None or last_at is None:
        inbound_msgs = [m for m in deps.tickets.messages(ticket.id) if m.direction == Direction.INBOUND]
        if not inbound_msgs:
            return None
        last_id, digest, last_at = inbound_msgs[-1].id, text_digest(inbound_msgs[-1].text), inbound_msgs[-1].created_at
    same = digest == text_digest(inbound.text)
    recent = abs(inbound.received_at - last_at) <= window
    return last_id if same and recent else None


def _acknowledge(
    ticket: Ticket, inbound: InboundMessage, deps: IntakeDeps, *, now: datetime
) -> tuple[Ticket, bool]:
    """Send the automatic acknowledgement, then store it, its outcome and the end of the claim
    in one write.

    Unlike an agent's reply (services/outbox), the ack is not stored before it is sent: its
    text is derived from the ticket, so a crash in between loses nothing a retry cannot redo.
    """
    repo = deps.tickets
    reason = _no_ack_reason(ticket, inbound, deps, now=now)
    if reason is not None:
        repo.record(ticket.id, events=[TimelineEvent(ticket_id=ticket.id, at=now, kind="ack_skipped",
                                                     detail={"reason": reason})],
                    finish_claim=AFTER_CREATE)
        return ticket, False
    is_email = ticket.channel == Channel.EMAIL
    brand = brands_of(deps).get(ticket.brand)
    # The brand answers in the customer's language when it can, else in its first language.
    spoken = ticket.model_copy(update={"lang": brand.answer_lang(ticket.lang)})
    template = brand.template(spoken.lang)
    meta: dict[str, object] = {
        "kind": "ack", "in_reply_to": inbound.external_id if is_email else None,
        "references": [*inbound.references, inbound.external_id] if is_email else [],
        "reply_to_platform_id": inbound.meta.get("platform_message_id"), "lang": str(spoken.lang)}
    if brand.sender is not None:
        meta.update(from_address=brand.sender.address, from_name=brand.sender.name)
    message = Message(
        ticket_id=ticket.id,
        # Derived from the ticket, not the clock: a resumed intake rewrites the same outbox entry.
        id=Message.make_id(ticket.created_at, f"ack:{ticket.id}"),
        direction=Direction.OUTBOUND,
        channel=ticket.channel,
        author="system",
        subject=acks.ack_subject(spoken) if is_email else "",
        text=(acks.ack_text(spoken, template, brand.display_name) if is_email
              else acks.chat_ack_text(spoken, template, brand.display_name)),
        created_at=now,
        is_auto=True,
        meta=meta,
    )
    external_id, failure = outbox.send(ticket, message, deps.senders)
    if external_id is None:
        repo.record(ticket.id, messages=[message.model_copy(update={"delivery_status": "failed"})],
                    events=[outbox.send_failed(message, failure, now)], finish_claim=AFTER_CREATE)
        return ticket, False
    sent = message.model_copy(update={"delivery_status": "sent", "external_id": external_id})
    # The ticket itself is not rewritten: the ack is on the thread, indexed for threading and
    # on the timeline, and the finished claim says it is done. Rewriting the ticket would cost
    # its item twice more (table and both indexes) and bump its version under an agent who
    # opened it a moment ago.
    repo.record(ticket.id, messages=[sent], indexes=[(ticket.channel, external_id, sent.id)],
                events=[TimelineEvent(ticket_id=ticket.id, at=now, kind="acknowledged",
                                      detail={"message_id": external_id})],
                finish_claim=AFTER_CREATE)
    return ticket, True


def _no_ack_reason(ticket: Ticket, inbound: InboundMessage, deps: IntakeDeps, *, now: datetime) -> str | None:
    settings = deps.settings
    customer = inbound.customer.lower()
    if not settings.ack_enabled:
        return "acknowledgements disabled"
    if inbound.is_auto:
        return f"automatic mail ({inbound.auto_reason or 'auto'})"
    if ticket.category == Category.SPAM:
        return "spam"
    if inbound.channel == Channel.EMAIL and (
        customer in {a.lower() for a in settings.own_addresses} or customer == settings.support_address.lower()
        or brands_of(deps).for_address(customer) is not None  # a brand's own inbox: a loop
    ):
        return "our own address"
    if inbound.channel == Channel.EMAIL and (not customer or "@" not in customer or _NO_REPLY.match(customer)):
        return "sender does not take replies"
    if not deps.limiter.allow(f"ack#{inbound.channel}#{customer}", limit=settings.ack_limit_per_hour,
                              window_seconds=3600, now=now):
        return "acknowledgement rate limit for this sender"
    return None


def _event_detail(ticket: Ticket) -> dict[str, object]:
    return {
        "ticket_id": ticket.id,
        "brand": ticket.brand,
        "channel": str(ticket.channel),
        "status": str(ticket.status),
        "category": str(ticket.category),
        "priority": str(ticket.priority),
        "lang": str(ticket.lang),
        "version": ticket.version,
    }
