"""First-response SLA badges: what the dashboard shows for each ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from deskintake.domain.model import Category, Channel, Priority, TicketStatus
from deskintake.domain.ticket import Ticket
from deskintake.services.tickets import DEFAULT_SLA_TARGETS, iso, sla_of, sla_windows

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def ticket(age: timedelta, priority: Priority = Priority.URGENT, **changes: object) -> Ticket:
    base = Ticket(id="TKT-ABCDE12", channel=Channel.EMAIL, customer="c@example.com",
                  category=Category.CARD_FRAUD, priority=priority, created_at=NOW - age,
                  updated_at=NOW - age)
    return base.model_copy(update=changes)


@pytest.mark.parametrize("priority,age,state", [
    (Priority.URGENT, timedelta(minutes=16), "breached"),
    (Priority.URGENT, timedelta(minutes=11), "due_soon"),
    (Priority.URGENT, timedelta(minutes=5), "ok"),
    (Priority.HIGH, timedelta(minutes=45), "due_soon"),
    (Priority.HIGH, timedelta(minutes=30), "ok"),
    (Priority.NORMAL, timedelta(hours=5), "breached"),
    (Priority.LOW, timedelta(hours=23, minutes=45), "due_soon"),
])
def test_an_unanswered_open_ticket_is_timed_against_its_priority(priority: Priority, age: timedelta, state: str) -> None:
    assert sla_of(ticket(age, priority), NOW, DEFAULT_SLA_TARGETS).state == state


def test_an_answered_ticket_has_met_its_first_response() -> None:
    answered = ticket(timedelta(hours=3), first_response_at=NOW - timedelta(hours=2, minutes=50))
    assert sla_of(answered, NOW, DEFAULT_SLA_TARGETS).state == "met"


def test_waiting_pauses_and_resolved_or_spam_have_no_clock() -> None:
    assert sla_of(ticket(timedelta(hours=3), status=TicketStatus.WAITING), NOW, DEFAULT_SLA_TARGETS).state == "paused"
    assert sla_of(ticket(timedelta(hours=3), status=TicketStatus.RESOLVED), NOW, DEFAULT_SLA_TARGETS).state == "none"
    spam = ticket(timedelta(hours=3), Priority.NONE, category=Category.SPAM)
    assert sla_of(spam, NOW, DEFAULT_SLA_TARGETS).state == "none"


def test_the_due_time_is_creation_plus_the_target() -> None:
    assert sla_of(ticket(timedelta(minutes=1)), NOW, DEFAULT_SLA_TARGETS).due_at == NOW + timedelta(minutes=14)


def test_listing_windows_compare_as_the_stored_iso_strings() -> None:
    """The index filter compares created_at strings: cut-offs must sort like the stored times."""
    windows = {w.priority: w for w in sla_windows(NOW, DEFAULT_SLA_TARGETS)}
    created = ticket(timedelta(minutes=16)).model_dump(mode="json")["created_at"]
    assert created < windows["urgent"].breached_before
    fresh = ticket(timedelta(minutes=14)).model_dump(mode="json")["created_at"]
    assert windows["urgent"].breached_before <= fresh < windows["urgent"].due_soon_before
    assert iso(NOW) == "2026-11-21T12:00:00Z"
