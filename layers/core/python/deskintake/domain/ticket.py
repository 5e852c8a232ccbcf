"""Tickets, their messages and timeline: behaviour on the model, no I/O."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deskintake.domain.greetings import GREETING_RULE
from deskintake.domain.model import (
    Attachment,
    Category,
    Channel,
    Classification,
    InboundMessage,
    Lang,
    Priority,
    Redaction,
    TicketStatus,
)

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TICKET_NUMBER_LENGTH = 7
_TOKEN_BRACKETED = re.compile(r"\[\s*(TKT-[0-9A-HJKMNP-TV-Z]{5,26})\s*\]", re.IGNORECASE)
_TOKEN = re.compile(r"(?<![0-9A-Za-z])(TKT-[0-9A-HJKMNP-TV-Z]{5,26})(?![0-9A-Za-z])", re.IGNORECASE)


def new_ticket_id() -> str:
    """A fresh ticket number: TKT- and seven Crockford base32 characters (34 bits)."""
    return "TKT-" + "".join(secrets.choice(CROCKFORD) for _ in range(TICKET_NUMBER_LENGTH))


def find_ticket_token(subject: str) -> str | None:
    """The ticket number in a subject line such as 'Re: [TKT-7Q2K9] ...', upper-cased.

    A bracketed token wins over a bare one (a customer may quote another number in text).
    """
    match = _TOKEN_BRACKETED.search(subject or "") or _TOKEN.search(subject or "")
    return match.group(1).upper() if match else None


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"
    NOTE = "note"


class Message(BaseModel):
    """One message on a ticket's thread: from the customer, to the customer, or an internal note."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    id: str  # sort key part: "<iso time>#<short hash>", unique on the ticket
    direction: Direction
    channel: Channel
    external_id: str | None = None
    author: str = ""
    subject: str = ""
    text: str = ""
    html: str | None = None
    created_at: datetime
    attachments: list[Attachment] = Field(default_factory=list)
    redactions: list[Redaction] = Field(default_factory=list)
    raw_key: str | None = None
    repeat_count: int = 1
    delivery_status: str | None = None  # outbound only: queued / sent / delivered / read / failed
    is_auto: bool = False
    meta: dict[str, Any] = Field(default_factory=dict)

    @staticmethod
    def make_id(at: datetime, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        return f"{at.isoformat(timespec='milliseconds')}#{digest}"

    @classmethod
    def from_inbound(cls, ticket_id: str, inbound: InboundMessage) -> Message:
        return cls(
            ticket_id=ticket_id,
            id=cls.make_id(inbound.received_at, inbound.external_id),
            direction=Direction.INBOUND,
            channel=inbound.channel,
            external_id=inbound.external_id,
            author=inbound.customer,
            subject=inbound.subject,
            text=inbound.text,
            html=inbound.html,
            created_at=inbound.received_at,
            attachments=inbound.attachments,
            redactions=inbound.redactions,
            raw_key=inbound.raw_key,
            is_auto=inbound.is_auto,
            meta=inbound.meta,
        )


class TimelineEvent(BaseModel):
    """Something that happened to a ticket: classified, acknowledged, follow-up ran, status changed."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    at: datetime
    kind: str
    actor: str = "system"
    detail: dict[str, Any] = Field(default_factory=dict)


OPEN_STATUSES = frozenset({TicketStatus.OPEN, TicketStatus.WAITING})


class Ticket(BaseModel):
    """A customer's case. Changes return a new Ticket with a bumped version."""

    model_config = ConfigDict(frozen=True)

    id: str
    brand: str = "default"
    channel: Channel
    customer: str
    customer_name: str = ""
    subject: str = ""
    status: TicketStatus = TicketStatus.OPEN
    category: Category
    priority: Priority
    confidence: float = 0.0
    needs_triage: bool = False
    lang: Lang = Lang.EN
    created_at: datetime
    updated_at: datetime
    last_customer_message_at: datetime | None = None
    first_response_at: datetime | None = None
    assignee: str | None = None
    version: int = 1
    message_count: int = 0
    preview: str = ""
    explanation: list[str] = Field(default_factory=list)
    entities: dict[str, Any] = Field(default_factory=dict)
    model_version: str = ""
    linked_ticket: str | None = None
    ack_message_id: str | None = None  # written by earlier versions; the ack is on the thread now
    is_auto: bool = False
    closed_at: datetime | None = None
    # The last customer message, so a repeat of it is recognised without reading the thread.
    last_inbound_id: str | None = None
    last_inbound_digest: str | None = None

    @classmethod
    def open(
        cls,
        inbound: InboundMessage,
        classification: Classification,
        *,
        ticket_id: str,
        brand: str = "default",
        linked_ticket: str | None = None,
    ) -> Ticket:
        at = inbound.received_at
        return cls(
            id=ticket_id,
            brand=brand,
            channel=inbound.channel,
            customer=inbound.customer,
            customer_name=inbound.customer_name,
            subject=inbound.subject or _first_line(inbound.text),
            category=classification.category,
            priority=classification.priority,
            confidence=classification.confidence,
            needs_triage=classification.needs_triage,
            lang=classification.lang,
            created_at=at,
            updated_at=at,
            last_customer_message_at=at,
            message_count=1,
            preview=_preview(inbound.text),
            explanation=classification.explanation,
            entities=classification.entities,
            model_version=classification.model_version,
            linked_ticket=linked_ticket,
            is_auto=inbound.is_auto,
            last_inbound_id=Message.make_id(at, inbound.external_id),
            last_inbound_digest=text_digest(inbound.text),
        )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def _next(self, now: datetime, **changes: Any) -> Ticket:
        return self.model_copy(update={**changes, "updated_at": now, "version": self.version + 1})

    def customer_replied(self, inbound: InboundMessage) -> Ticket:
        """A further customer message: reopens a resolved or waiting ticket."""
        status = TicketStatus.OPEN if self.status != TicketStatus.CLOSED else self.status
        return self._next(
            inbound.received_at,
            status=status,
            message_count=self.message_count + 1,
            last_customer_message_at=inbound.received_at,
            preview=_preview(inbound.text) or self.preview,
            last_inbound_id=Message.make_id(inbound.received_at, inbound.external_id),
            last_inbound_digest=text_digest(inbound.text),
        )

    @property
    def awaits_request(self) -> bool:
        """Filed from a greeting alone ("halo kak") and nobody has answered yet: the customer's
        next message carries the request, and the ticket is classified on that."""
        return (self.category == Category.GENERAL_INQUIRY and self.first_response_at is None
                and bool(self.explanation) and GREETING_RULE in self.explanation[0])

    def reclassified(self, classification: Classification) -> Ticket:
        """The category, priority and reasons of the message that carried the request."""
        return self.model_copy(update={
            "category": classification.category, "priority": classification.priority,
            "confidence": classification.confidence, "needs_triage": classification.needs_triage,
            "lang": classification.lang, "entities": {**self.entities, **classification.entities},
            "explanation": [*classification.explanation,
                            "classified on the customer's request: the first message was a greeting"],
            "model_version": classification.model_version,
        })

    def agent_replied(self, now: datetime) -> Ticket:
        return self._next(
            now,
            first_response_at=self.first_response_at or now,
            message_count=self.message_count + 1,
        )

    def with_status(self, status: TicketStatus, now: datetime) -> Ticket:
        closed_at = now if status == TicketStatus.CLOSED else None
        return self._next(now, status=status, closed_at=closed_at)

    def updated(self, now: datetime, **changes: Any) -> Ticket:
        return self._next(now, **changes)


def text_digest(text: str) -> str:
    """A short fingerprint of a message's words, blind to spacing and case (repeat detection)."""
    words = " ".join((text or "").split()).casefold()
    return hashlib.sha256(words.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:120]
    return ""


def _preview(text: str) -> str:
    return " ".join((text or "").split())[:280]


Actor = Literal["system", "agent", "customer"]


def normalize_message_id(message_id: str) -> str:
    """A Message-ID as an index key: no angle brackets, lower case.

    SES sends our mail with Message-ID `<id@region.amazonses.com>` while its API returns only
    `id`; both forms map to `id@amazonses.com` so a customer's reply finds the ticket.
    """
    mid = message_id.strip().strip("<>").strip().lower()
    local, _, domain = mid.rpartition("@")
    if not local:
        return f"{mid}@amazonses.com" if mid and "@" not in mid else mid
    if domain == "amazonses.com" or domain.endswith(".amazonses.com"):
        return f"{local}@amazonses.com"
    return mid
