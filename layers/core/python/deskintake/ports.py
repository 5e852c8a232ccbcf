"""The ports the services depend on; adapters implement them over AWS, fakes in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from deskintake.domain.model import Channel
from deskintake.domain.ticket import Message, Ticket, TimelineEvent


class TicketRepository(Protocol):
    """Tickets, their messages, timeline and the indexes that thread and deduplicate them."""

    def create(self, ticket: Ticket, message: Message, *, open_key: str | None,
               events: Sequence[TimelineEvent] = (), claim: tuple[str, datetime] | None = None) -> None:
        """Store a new ticket with its first message (and timeline events, and a claim), atomically.

        Raises DuplicateError if the message's external id is already stored, and
        ConflictError if the ticket id is taken or `open_key` already points at a ticket.
        """

    def append(self, ticket: Ticket, message: Message, *, expected_version: int,
               events: Sequence[TimelineEvent] = ()) -> None:
        """Store a further message and the ticket's new state (and timeline events), atomically.

        Raises DuplicateError for a stored external id, ConflictError for a stale version.
        """

    def append_many(self, ticket: Ticket, messages: Sequence[Message], *, expected_version: int,
                    events: Sequence[TimelineEvent] = ()) -> None:
        """`append` for several messages of one ticket, atomically (at most 49)."""

    def save(self, ticket: Ticket, *, expected_version: int, events: Sequence[TimelineEvent] = ()) -> None:
        """Store the ticket's new state (with timeline events) if nobody changed it since `expected_version`."""

    def get(self, ticket_id: str) -> Ticket:
        """The ticket, or NotFoundError."""

    def messages(self, ticket_id: str) -> list[Message]: ...

    def find_message(self, channel: Channel, external_id: str) -> tuple[str, str] | None:
        """(ticket id, message id) of a stored message by its channel's external id."""

    def find_messages(self, channel: Channel, external_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """`find_message` for several ids in one request: external id -> (ticket, message)."""

    def lookup(self, channel: Channel, external_id: str, *, open_key: str | None = None,
               reference_ids: Sequence[str] = ()) -> Lookup:
        """What intake must know before filing a message, read together in one request:
        whether it is stored already, the customer's open chat ticket, the referenced ticket."""

    def index_message_id(self, channel: Channel, external_id: str, ticket_id: str, message_id: str) -> None:
        """Remember an outbound message's id (e.g. our ack's Message-ID) for threading."""

    def open_ticket_for(self, open_key: str) -> str | None:
        """The open conversation ticket for this customer on this channel."""

    def release_open_key(self, open_key: str, ticket_id: str) -> None:
        """Forget the open-conversation pointer if it still names this ticket."""

    def add_message(self, message: Message) -> None:
        """Store an outbound message or internal note on a ticket."""

    def update_message(self, ticket_id: str, message_id: str, **changes: Any) -> None: ...

    def record_sent(self, ticket_id: str, message_id: str, channel: Channel, external_id: str) -> None:
        """Mark an outbound message sent and index the id the platform gave it."""

    def bump_repeat(self, ticket_id: str, message_id: str, external_id: str, channel: Channel) -> None:
        """Count a repeated identical message and index its external id to the original."""

    def add_event(self, event: TimelineEvent) -> None: ...

    def record(self, ticket_id: str, *, save: tuple[Ticket, int] | None = None,
               messages: Sequence[Message] = (), indexes: Sequence[tuple[Channel, str, str]] = (),
               events: Sequence[TimelineEvent] = (), finish_claim: str | None = None) -> None:
        """Store these together, atomically: `save` = (ticket, expected version), whole
        messages, (channel, external id, message id) threading indexes, timeline events, and
        the end of a claimed task. ConflictError if the saved ticket changed since its version.
        """

    def claim(self, ticket_id: str, task: str, *, now: datetime, stale_after_seconds: int) -> bool:
        """Take the one-time `task` on a ticket: True for exactly one caller.

        A claim that was never finished and is older than `stale_after_seconds` (its holder
        died) can be taken again; a finished one never.
        """

    def events(self, ticket_id: str) -> list[TimelineEvent]: ...


@dataclass(frozen=True)
class Lookup:
    """The answer of TicketRepository.lookup."""

    seen: tuple[str, str] | None = None  # (ticket id, message id) of this very message
    open_ticket: str | None = None  # the open chat ticket behind `open_key`
    referenced_ticket: str | None = None  # the ticket of the first reference that is ours


class RawStore(Protocol):
    """Raw inbound payloads (MIME, webhook bodies) and attachment bytes."""

    def get(self, key: str) -> bytes: ...

    def put(self, key: str, body: bytes, *, content_type: str = "application/octet-stream") -> None: ...


class Sender(Protocol):
    """Delivers an outbound message on one channel; returns the id the platform gave it."""

    def send(self, ticket: Ticket, message: Message) -> str: ...


class EventPublisher(Protocol):
    """Ticket events on the EventBridge bus."""

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...

    def publish_many(self, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Several events in one call (EventBridge takes up to 10 a request)."""


class RateLimiter(Protocol):
    """Counts actions per key within a window."""

    def allow(self, key: str, *, limit: int, window_seconds: int, now: datetime) -> bool: ...


class FailureLog(Protocol):
    """Inbound payloads that could not be processed, kept with the reason, for reprocessing."""

    def record(self, *, source: str, key: str, reason: str, at: datetime) -> str: ...

    def pending(self) -> list[dict[str, Any]]: ...

    def resolve(self, failure_id: str, *, at: datetime, ticket_id: str | None) -> None: ...


class FollowUps(Protocol):
    """Plans and cancels a ticket's follow-ups whenever the ticket changes."""

    def ticket_changed(self, ticket: Ticket, *, now: datetime, reason: str) -> None: ...


class NoFollowUps:
    """Follow-ups switched off."""

    def ticket_changed(self, ticket: Ticket, *, now: datetime, reason: str) -> None:
        return None


# ---- follow-ups and SLAs (issue 5) ------------------------------------------------------

from typing import TYPE_CHECKING  # noqa: E402 - kept with the follow-up ports it serves

if TYPE_CHECKING:
    from collections.abc import Iterator

    from deskintake.domain.follow_up_policy import FollowUpState


class FollowUpScheduler(Protocol):
    """One-time timers for a ticket's follow-ups, one per (ticket, kind), found by name."""

    def schedule(self, ticket_id: str, kind: str, *, fire_at: datetime,
                 payload: dict[str, Any]) -> str:
        """Create, or replace, the timer that delivers `payload` at `fire_at`; returns its name."""

    def cancel(self, ticket_id: str, kind: str) -> None:
        """Remove the timer; one that already fired or never existed is not an error."""

    def get(self, ticket_id: str, kind: str) -> dict[str, Any] | None:
        """The pending timer's `fire_at` (datetime) and `payload`, or None."""


class FollowUpStore(Protocol):
    """Each ticket's follow-up bookkeeping, an atomic once-only claim, and the open tickets."""

    def load(self, ticket_id: str) -> FollowUpState: ...

    def load_with_ticket(self, ticket_id: str) -> tuple[Ticket, FollowUpState]:
        """The ticket (NotFoundError if none) and its state, read together (one round trip)."""

    def save(self, state: FollowUpState, *, expected_version: int) -> None:
        """Store the state if nobody saved since `expected_version` (else ConflictError)."""

    def create(self, state: FollowUpState) -> None:
        """Store a new ticket's first state; ConflictError if the ticket has any already."""

    def commit(self, ticket_id: str, *, claim: str | None = None,
               state: FollowUpState | None = None, expected_version: int = 0,
               ticket: tuple[Ticket, int] | None = None,
               events: Sequence[TimelineEvent] = ()) -> bool:
        """All or nothing: claim occurrence `claim`, save `state` (as `save`), store the
        (ticket, expected version) and add timeline `events`.

        False, with nothing written, if `claim` was taken already; ConflictError, with nothing
        written, if the state or the ticket changed since the versions given.
        """

    def claim(self, ticket_id: str, key: str) -> bool:
        """Mark the follow-up occurrence `key` done; False if it already was (exactly once)."""

    def release(self, ticket_id: str, key: str) -> None:
        """Undo a claim whose action failed, so a retry can act."""

    def open_tickets(self, brand: str) -> Iterator[Ticket]:
        """Every open or waiting ticket of the brand (the sweep's worklist)."""
