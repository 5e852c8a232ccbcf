"""In-memory FollowUpScheduler and FollowUpStore with the adapters' semantics (for unit tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from deskintake.domain.errors import ConflictError
from deskintake.domain.follow_up_policy import FollowUpState
from deskintake.domain.model import TicketStatus
from deskintake.domain.ticket import Ticket, TimelineEvent

from tests.fakes import InMemoryTicketRepository


class FakeScheduler:
    """Schedules by name `<ticket>.<kind>`; `fire_due(now)` hands back what would have fired."""

    def __init__(self) -> None:
        self.schedules: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self.calls: list[tuple[str, str]] = []

    def schedule(self, ticket_id: str, kind: str, *, fire_at: datetime,
                 payload: dict[str, Any]) -> str:
        name = f"{ticket_id}.{kind}"
        self.calls.append(("schedule", name))
        self.schedules[name] = (fire_at, dict(payload))
        return name

    def cancel(self, ticket_id: str, kind: str) -> None:
        self.calls.append(("cancel", f"{ticket_id}.{kind}"))
        self.schedules.pop(f"{ticket_id}.{kind}", None)

    def get(self, ticket_id: str, kind: str) -> dict[str, Any] | None:
        found = self.schedules.get(f"{ticket_id}.{kind}")
        return None if found is None else {"fire_at": found[0], "payload": found[1]}

    def kinds(self, ticket_id: str) -> set[str]:
        return {n.split(".", 1)[1] for n in self.schedules if n.startswith(f"{ticket_id}.")}

    def fire_due(self, now: datetime) -> list[dict[str, Any]]:
        """Pop every schedule due by `now` (ActionAfterCompletion DELETE), soonest first."""
        due = sorted((v for v in self.schedules.items() if v[1][0] <= now), key=lambda i: i[1][0])
        for name, _ in due:
            del self.schedules[name]
        return [payload for _, (_, payload) in due]


class InMemoryFollowUpStore:
    def __init__(self, tickets: InMemoryTicketRepository) -> None:
        self._tickets = tickets
        self.states: dict[str, FollowUpState] = {}
        self.done: dict[str, set[str]] = {}
        self.commits: list[dict[str, Any]] = []  # what each commit wrote, for the tests
        self.loads = 0  # state reads on their own (load_with_ticket not counted)
        self._lock = threading.RLock()

    def load(self, ticket_id: str) -> FollowUpState:
        self.loads += 1
        return self._state(ticket_id)

    def _state(self, ticket_id: str) -> FollowUpState:
        state = self.states.get(ticket_id, FollowUpState(ticket_id=ticket_id))
        return state.model_copy(update={"done": frozenset(self.done.get(ticket_id, set()))})

    def load_with_ticket(self, ticket_id: str) -> tuple[Ticket, FollowUpState]:
        with self._lock:
            return self._tickets.get(ticket_id), self._state(ticket_id)

    def save(self, state: FollowUpState, *, expected_version: int) -> None:
        with self._lock:
            self._check_version(state.ticket_id, expected_version)
            self._store(state, expected_version)

    def create(self, state: FollowUpState) -> None:
        with self._lock:
            if state.ticket_id in self.states or state.ticket_id in self.done:
                raise ConflictError("follow-up state exists")
            self._store(state, 0)

    def commit(self, ticket_id: str, *, claim: str | None = None,
               state: FollowUpState | None = None, expected_version: int = 0,
               ticket: tuple[Ticket, int] | None = None,
               events: Sequence[TimelineEvent] = ()) -> bool:
        with self._lock, self._tickets._lock:
            if claim is not None and claim in self.done.get(ticket_id, set()):
                return False
            if state is not None:
                self._check_version(ticket_id, expected_version)
            if ticket is not None:
                stored = self._tickets.tickets.get(ticket_id)
                if stored is None or stored.version != ticket[1]:
                    raise ConflictError("stale ticket")
            self.commits.append({"claim": claim, "state": state is not None,
                                 "ticket": ticket is not None, "events": len(events)})
            if claim is not None:
                self.done.setdefault(ticket_id, set()).add(claim)
            if state is not None:
                self._store(state, expected_version)
            if ticket is not None:
                self._tickets.tickets[ticket_id] = ticket[0]
            self._tickets.timeline[ticket_id].extend(events)
            return True

    def _check_version(self, ticket_id: str, expected_version: int) -> None:
        current = self.states.get(ticket_id, FollowUpState(ticket_id=ticket_id))
        if current.version != expected_version:
            raise ConflictError("stale follow-up state")

    def _store(self, state: FollowUpState, expected_version: int) -> None:
        self.states[state.ticket_id] = state.model_copy(
            update={"version": expected_version + 1, "done": frozenset()})

    def claim(self, ticket_id: str, key: str) -> bool:
        with self._lock:
            done = self.done.setdefault(ticket_id, set())
            if key in done:
                return False
            done.add(key)
            return True

    def release(self, ticket_id: str, key: str) -> None:
        self.done.get(ticket_id, set()).discard(key)

    def open_tickets(self, brand: str) -> Iterator[Ticket]:
        for ticket in list(self._tickets.tickets.values()):
            if ticket.brand == brand and ticket.status in (TicketStatus.OPEN, TicketStatus.WAITING):
                yield ticket
