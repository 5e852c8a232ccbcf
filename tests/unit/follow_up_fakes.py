"""In-memory FollowUpScheduler and FollowUpStore with the adapters' semantics (for unit tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from deskintake.domain.errors import ConflictError
from deskintake.domain.follow_up_policy import FollowUpState
from deskintake.domain.model import TicketStatus
from deskintake.domain.ticket import Ticket

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
        self._lock = threading.Lock()

    def load(self, ticket_id: str) -> FollowUpState:
        state = self.states.get(ticket_id, FollowUpState(ticket_id=ticket_id))
        return state.model_copy(update={"done": frozenset(self.done.get(ticket_id, set()))})

    def save(self, state: FollowUpState, *, expected_version: int) -> None:
        with self._lock:
            current = self.states.get(state.ticket_id, FollowUpState(ticket_id=state.ticket_id))
            if current.version != expected_version:
                raise ConflictError("stale follow-up state")
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
