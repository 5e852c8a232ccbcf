"""In-memory fakes of the ports, with the same conditional semantics as the DynamoDB adapter.

The contract tests in tests/integration/test_repository_contract.py run one suite against
both this fake and the real adapter inside moto, so the fake cannot drift.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from deskintake.domain.errors import ConflictError, DuplicateError, NotFoundError
from deskintake.domain.model import Channel
from deskintake.domain.ticket import Message, Ticket, TimelineEvent, normalize_message_id
from deskintake.ports import Lookup


def _ext(channel: Channel | str, external_id: str) -> tuple[str, str]:
    return str(channel), normalize_message_id(external_id) if str(channel) == "email" else external_id


class InMemoryTicketRepository:
    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.msgs: dict[str, dict[str, Message]] = defaultdict(dict)
        self.external: dict[tuple[str, str], tuple[str, str]] = {}
        self.open: dict[str, str] = {}
        self.timeline: dict[str, list[TimelineEvent]] = defaultdict(list)
        self.claims: dict[tuple[str, str], tuple[int, bool]] = {}
        self._lock = threading.RLock()

    def create(self, ticket: Ticket, message: Message, *, open_key: str | None,
               events: Sequence[TimelineEvent] = (), claim: tuple[str, datetime] | None = None) -> None:
        assert message.external_id is not None
        with self._lock:
            if _ext(message.channel, message.external_id) in self.external:
                raise DuplicateError("message already stored")
            if ticket.id in self.tickets or (open_key is not None and open_key in self.open):
                raise ConflictError("concurrent change")
            self.tickets[ticket.id] = ticket
            self.external[_ext(message.channel, message.external_id)] = (ticket.id, message.id)
            self.msgs[ticket.id][message.id] = message
            if open_key is not None:
                self.open[open_key] = ticket.id
            self.timeline[ticket.id].extend(events)
            if claim is not None:
                self.claims[(ticket.id, claim[0])] = (int(claim[1].timestamp()), False)

    def append(self, ticket: Ticket, message: Message, *, expected_version: int,
               events: Sequence[TimelineEvent] = ()) -> None:
        assert message.external_id is not None
        with self._lock:
            if _ext(message.channel, message.external_id) in self.external:
                raise DuplicateError("message already stored")
            if self.tickets[ticket.id].version != expected_version:
                raise ConflictError("stale version")
            self.tickets[ticket.id] = ticket
            self.external[_ext(message.channel, message.external_id)] = (ticket.id, message.id)
            self.msgs[ticket.id][message.id] = message
            self.timeline[ticket.id].extend(events)

    def append_many(self, ticket: Ticket, messages: Sequence[Message], *, expected_version: int,
                    events: Sequence[TimelineEvent] = ()) -> None:
        with self._lock:
            keys = [_ext(m.channel, m.external_id or "") for m in messages]
            if any(k in self.external for k in keys) or len(set(keys)) != len(keys):
                raise DuplicateError("message already stored")
            if self.tickets[ticket.id].version != expected_version:
                raise ConflictError("stale version")
            self.tickets[ticket.id] = ticket
            for key, message in zip(keys, messages, strict=True):
                self.external[key] = (ticket.id, message.id)
                self.msgs[ticket.id][message.id] = message
            self.timeline[ticket.id].extend(events)

    def save(self, ticket: Ticket, *, expected_version: int, events: Sequence[TimelineEvent] = ()) -> None:
        with self._lock:
            if ticket.id not in self.tickets or self.tickets[ticket.id].version != expected_version:
                raise ConflictError("stale version")
            self.tickets[ticket.id] = ticket
            self.timeline[ticket.id].extend(events)

    def get(self, ticket_id: str) -> Ticket:
        try:
            return self.tickets[ticket_id]
        except KeyError:
            raise NotFoundError(ticket_id) from None

    def messages(self, ticket_id: str) -> list[Message]:
        return [m for _, m in sorted(self.msgs[ticket_id].items())]

    def find_message(self, channel: Channel, external_id: str) -> tuple[str, str] | None:
        return self.external.get(_ext(channel, external_id))

    def find_messages(self, channel: Channel, external_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        return {e: found for e in external_ids if (found := self.find_message(channel, e)) is not None}

    def index_message_id(self, channel: Channel, external_id: str, ticket_id: str, message_id: str) -> None:
        self.external[_ext(channel, external_id)] = (ticket_id, message_id)

    def lookup(self, channel: Channel, external_id: str, *, open_key: str | None = None,
               reference_ids: Sequence[str] = ()) -> Lookup:
        with self._lock:
            return Lookup(seen=self.find_message(channel, external_id),
                          open_ticket=self.open.get(open_key) if open_key is not None else None,
                          referenced_ticket=next((found[0] for mid in reference_ids if (
                              found := self.external.get(_ext("email", mid))) is not None), None))

    def open_ticket_for(self, open_key: str) -> str | None:
        return self.open.get(open_key)

    def release_open_key(self, open_key: str, ticket_id: str) -> None:
        with self._lock:
            if self.open.get(open_key) == ticket_id:
                del self.open[open_key]

    def add_message(self, message: Message) -> None:
        self.msgs[message.ticket_id][message.id] = message

    def update_message(self, ticket_id: str, message_id: str, **changes: Any) -> None:
        known = {k: v for k, v in changes.items() if k in Message.model_fields}
        current = self.msgs[ticket_id][message_id]
        self.msgs[ticket_id][message_id] = current.model_copy(update=known)

    def record_sent(self, ticket_id: str, message_id: str, channel: Channel, external_id: str) -> None:
        with self._lock:
            self.update_message(ticket_id, message_id, delivery_status="sent", external_id=external_id)
            self.index_message_id(channel, external_id, ticket_id, message_id)

    def bump_repeat(self, ticket_id: str, message_id: str, external_id: str, channel: Channel) -> None:
        with self._lock:
            if _ext(channel, external_id) in self.external:
                raise DuplicateError("message already stored")
            current = self.msgs[ticket_id][message_id]
            self.msgs[ticket_id][message_id] = current.model_copy(
                update={"repeat_count": current.repeat_count + 1})
            self.external[_ext(channel, external_id)] = (ticket_id, message_id)

    def add_event(self, event: TimelineEvent) -> None:
        self.timeline[event.ticket_id].append(event)

    def record(self, ticket_id: str, *, save: tuple[Ticket, int] | None = None,
               messages: Sequence[Message] = (), indexes: Sequence[tuple[Channel, str, str]] = (),
               events: Sequence[TimelineEvent] = (), finish_claim: str | None = None) -> None:
        with self._lock:
            if save is not None:
                stored = self.tickets.get(ticket_id)
                if stored is None or stored.version != save[1]:
                    raise ConflictError("stale version")
                self.tickets[ticket_id] = save[0]
            for channel, external_id, message_id in indexes:
                self.index_message_id(channel, external_id, ticket_id, message_id)
            for message in messages:
                self.msgs[ticket_id][message.id] = message
            self.timeline[ticket_id].extend(events)
            if finish_claim is not None:
                at, _ = self.claims.get((ticket_id, finish_claim), (0, False))
                self.claims[(ticket_id, finish_claim)] = (at, True)

    def events(self, ticket_id: str) -> list[TimelineEvent]:
        return sorted(self.timeline[ticket_id], key=lambda e: e.at)

    def claim(self, ticket_id: str, task: str, *, now: datetime, stale_after_seconds: int) -> bool:
        at = int(now.timestamp())
        with self._lock:
            held = self.claims.get((ticket_id, task))
            if held is not None and (held[1] or held[0] >= at - stale_after_seconds):
                return False
            self.claims[(ticket_id, task)] = (at, False)
            return True


class InMemoryRawStore:
    def __init__(self, objects: dict[str, bytes] | None = None) -> None:
        self.objects = dict(objects or {})

    def get(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError:
            raise NotFoundError(key) from None

    def put(self, key: str, body: bytes, *, content_type: str = "application/octet-stream") -> None:
        self.objects[key] = body


class RecordingSender:
    """Records what would be sent; `fail` makes it raise like a platform outage."""

    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[tuple[Ticket, Message]] = []
        self.fail = fail
        self._ids = itertools.count(1)

    def send(self, ticket: Ticket, message: Message) -> str:
        if self.fail:
            raise ConnectionError("platform unavailable")
        self.sent.append((ticket, message))
        return f"out-{next(self._ids)}@amazonses.com"


class InMemoryRateLimiter:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = defaultdict(int)

    def allow(self, key: str, *, limit: int, window_seconds: int, now: datetime) -> bool:
        window = int(now.timestamp()) // window_seconds
        if self.counts[(key, window)] >= limit:
            return False
        self.counts[(key, window)] += 1
        return True


class InMemoryFailureLog:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def record(self, *, source: str, key: str, reason: str, at: datetime) -> str:
        failure_id = f"f{len(self.records) + 1}"
        self.records[failure_id] = {"id": failure_id, "source": source, "key": key, "reason": reason,
                                    "at": at.isoformat(), "status": "pending"}
        return failure_id

    def pending(self) -> list[dict[str, Any]]:
        return [r for r in self.records.values() if r["status"] == "pending"]

    def resolve(self, failure_id: str, *, at: datetime, ticket_id: str | None) -> None:
        self.records[failure_id].update(status="reprocessed", ticket_id=ticket_id)
