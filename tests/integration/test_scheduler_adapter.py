"""The EventBridge Scheduler adapter and the follow-up store inside moto (template.yaml's resources).

moto stores schedules but neither fires them nor validates `at()`, so these tests check what
we send (read back with get_schedule) and our own validation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from deskintake.adapters.dynamodb_follow_ups import DynamoFollowUpStore
from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
from deskintake.adapters.eventbridge_scheduler import (
    EventBridgeFollowUpScheduler,
    at_expression,
    parse_at,
    schedule_name,
)
from deskintake.domain.errors import ConflictError, NotFoundError
from deskintake.domain.follow_up_policy import FollowUpKind, FollowUpState, ScheduledEntry
from deskintake.domain.model import Category, Channel, InboundMessage, Lang, Priority, TicketStatus
from deskintake.domain.ticket import Message, Ticket, TimelineEvent

from tests.fakes import InMemoryTicketRepository
from tests.unit.follow_up_fakes import InMemoryFollowUpStore

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def adapter(moto_stack: dict[str, Any]) -> EventBridgeFollowUpScheduler:
    env = moto_stack["env"]
    return EventBridgeFollowUpScheduler(
        moto_stack["client"]("scheduler"), group=env["DESKINTAKE_SCHEDULE_GROUP"],
        target_arn=env["DESKINTAKE_FOLLOW_UP_ARN"], role_arn=env["DESKINTAKE_SCHEDULER_ROLE_ARN"],
        dead_letter_arn=env["DESKINTAKE_FOLLOW_UP_DLQ_ARN"])


def test_a_follow_up_becomes_a_one_time_schedule_in_jakarta_time(
        moto_stack: dict[str, Any], adapter: EventBridgeFollowUpScheduler) -> None:
    fire_at = datetime(2026, 11, 21, 7, 46, tzinfo=UTC)  # 14:46 WIB
    payload = {"kind": "order_check", "ticket_id": "TKT-ABC1234", "key": "order_check@x"}
    name = adapter.schedule("TKT-ABC1234", "order_check", fire_at=fire_at, payload=payload)

    raw = moto_stack["client"]("scheduler").get_schedule(Name=name, GroupName=adapter.group)
    assert name == "TKT-ABC1234.order_check"
    assert raw["GroupName"] == moto_stack["env"]["DESKINTAKE_SCHEDULE_GROUP"]
    assert raw["ScheduleExpression"] == "at(2026-11-21T14:46:00)"
    assert raw["ScheduleExpressionTimezone"] == "Asia/Jakarta"
    assert raw["ActionAfterCompletion"] == "DELETE"
    assert raw["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = raw["Target"]
    assert target["Arn"] == moto_stack["env"]["DESKINTAKE_FOLLOW_UP_ARN"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"]["Arn"].endswith(":FollowUpDeadLetterQueue")
    found = adapter.get("TKT-ABC1234", "order_check")
    assert found is not None
    assert found["fire_at"] == fire_at and found["payload"] == payload


def test_scheduling_again_moves_the_schedule_and_cancel_is_idempotent(
        adapter: EventBridgeFollowUpScheduler) -> None:
    first = datetime(2026, 11, 21, 7, 46, tzinfo=UTC)
    adapter.schedule("TKT-ABC1234", "first_response", fire_at=first, payload={"n": 1})
    adapter.schedule("TKT-ABC1234", "first_response", fire_at=first + timedelta(hours=3),
                     payload={"n": 2})
    found = adapter.get("TKT-ABC1234", "first_response")
    assert found is not None
    assert (found["fire_at"], found["payload"]) == (first + timedelta(hours=3), {"n": 2})
    assert list(adapter.names()) == ["TKT-ABC1234.first_response"]
    adapter.cancel("TKT-ABC1234", "first_response")
    adapter.cancel("TKT-ABC1234", "first_response")  # already gone: not an error
    assert adapter.get("TKT-ABC1234", "first_response") is None
    assert list(adapter.names()) == []


def test_at_expressions_are_validated_because_moto_does_not() -> None:
    assert at_expression(datetime(2026, 12, 31, 17, 30, tzinfo=UTC), "Asia/Jakarta") == \
        "at(2027-01-01T00:30:00)"  # over midnight and the new year in Jakarta
    assert parse_at("at(2027-01-01T00:30:00)", "Asia/Jakarta") == datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    for bad in ("at(2025-13-45T99:00:00)", "at(2026-11-21 14:46:00)", "rate(5 minutes)",
                "at(2026-02-30T10:00:00)", "at(0001-01-01T00:00:00)"):
        with pytest.raises(ValueError):
            parse_at(bad, "Asia/Jakarta")
    with pytest.raises(ValueError):
        at_expression(datetime(2026, 11, 21, 7, 46), "Asia/Jakarta")  # naive: ambiguous


def test_schedule_names_fit_schedulers_rules() -> None:
    assert schedule_name("TKT-7Q2K9AB", "order_operator_check") == "TKT-7Q2K9AB.order_operator_check"
    odd = schedule_name("ticket with spaces/and:colons" * 4, "first_response")
    assert len(odd) <= 64 and all(c.isalnum() or c in "-_." for c in odd)
    assert odd != schedule_name("ticket with spaces/and:colons" * 4, "next_response")


# ---------------------------------------------------------------- the store: fake and DynamoDB


def _ticket(ticket_id: str, status: TicketStatus = TicketStatus.OPEN) -> tuple[Ticket, Message]:
    at = datetime(2026, 11, 21, 7, 31, tzinfo=WIB)
    inbound = InboundMessage(channel=Channel.EMAIL, external_id=f"<{ticket_id}@x>", customer="a@b.c",
                             text="pending", lang=Lang.ID, received_at=at)
    ticket = Ticket(id=ticket_id, channel=Channel.EMAIL, customer="a@b.c", category=Category.ORDER_PENDING,
                    priority=Priority.HIGH, created_at=at, updated_at=at, status=status)
    return ticket, Message.from_inbound(ticket_id, inbound)


@pytest.fixture(params=["memory", "dynamodb"])
def store_and_repo(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    if request.param == "memory":
        repo = InMemoryTicketRepository()
        return InMemoryFollowUpStore(repo), repo
    stack = request.getfixturevalue("moto_stack")
    db, table = stack["client"]("dynamodb"), stack["env"]["DESKINTAKE_TABLE"]
    return DynamoFollowUpStore(db, table), DynamoTicketRepository(db, table)


def test_store_round_trips_state_and_checks_versions(store_and_repo: tuple[Any, Any]) -> None:
    store, _ = store_and_repo
    empty = store.load("TKT-S1")
    assert empty == FollowUpState(ticket_id="TKT-S1")
    due = datetime(2026, 11, 21, 7, 46, tzinfo=UTC)
    state = empty.model_copy(update={
        "scheduled": {FollowUpKind.ORDER_CHECK: ScheduledEntry(key="order_check@1", due_at=due)},
        "pauses": ((due, due + timedelta(hours=1)),), "waiting_since": due})
    store.save(state, expected_version=0)
    loaded = store.load("TKT-S1")
    assert loaded.version == 1
    assert loaded.scheduled == state.scheduled and loaded.pauses == state.pauses
    assert loaded.waiting_since == due
    with pytest.raises(ConflictError):
        store.save(state, expected_version=0)


def test_store_claims_each_occurrence_once(store_and_repo: tuple[Any, Any]) -> None:
    store, _ = store_and_repo
    assert store.claim("TKT-S2", "order_check@1") is True
    assert store.claim("TKT-S2", "order_check@1") is False
    assert store.claim("TKT-S2", "first_response@1") is True
    store.save(store.load("TKT-S2"), expected_version=0)  # a save keeps the claims
    assert store.load("TKT-S2").done == {"order_check@1", "first_response@1"}
    store.release("TKT-S2", "order_check@1")
    assert store.claim("TKT-S2", "order_check@1") is True


def test_store_lists_open_and_waiting_tickets(store_and_repo: tuple[Any, Any]) -> None:
    store, repo = store_and_repo
    for ticket_id, status in [("TKT-O1", TicketStatus.OPEN), ("TKT-W1", TicketStatus.WAITING),
                              ("TKT-R1", TicketStatus.RESOLVED), ("TKT-C1", TicketStatus.CLOSED)]:
        ticket, message = _ticket(ticket_id, status)
        repo.create(ticket, message, open_key=None)
    assert sorted(t.id for t in store.open_tickets("default")) == ["TKT-O1", "TKT-W1"]
    assert list(store.open_tickets("other-brand")) == []


def _scheduled(key: str) -> dict[FollowUpKind, ScheduledEntry]:
    return {FollowUpKind.ORDER_CHECK: ScheduledEntry(key=key, due_at=datetime(2026, 11, 21, tzinfo=UTC))}


def test_store_reads_the_ticket_with_its_state(store_and_repo: tuple[Any, Any]) -> None:
    store, repo = store_and_repo
    with pytest.raises(NotFoundError):
        store.load_with_ticket("TKT-B0")
    ticket, message = _ticket("TKT-B1")
    repo.create(ticket, message, open_key=None)
    got, state = store.load_with_ticket("TKT-B1")
    assert (got.id, got.version, state) == ("TKT-B1", ticket.version, FollowUpState(ticket_id="TKT-B1"))
    store.claim("TKT-B1", "order_check@1")
    store.save(state.model_copy(update={"scheduled": _scheduled("order_check@2")}), expected_version=0)
    _, state = store.load_with_ticket("TKT-B1")
    assert (state.version, state.done, state.scheduled) == (1, {"order_check@1"}, _scheduled("order_check@2"))


def test_store_creates_a_first_state_only_if_there_is_none(store_and_repo: tuple[Any, Any]) -> None:
    store, _ = store_and_repo
    first = FollowUpState(ticket_id="TKT-N1", scheduled=_scheduled("order_check@1"))
    store.create(first)
    assert (store.load("TKT-N1").version, store.load("TKT-N1").scheduled) == (1, first.scheduled)
    with pytest.raises(ConflictError):
        store.create(first.model_copy(update={"scheduled": {}}))
    assert store.load("TKT-N1").scheduled == first.scheduled
    store.claim("TKT-N2", "order_check@1")  # a claim alone is state too
    with pytest.raises(ConflictError):
        store.create(FollowUpState(ticket_id="TKT-N2"))


def test_store_commits_claim_state_ticket_and_events_all_or_nothing(
        store_and_repo: tuple[Any, Any]) -> None:
    store, repo = store_and_repo
    ticket, message = _ticket("TKT-X1")
    repo.create(ticket, message, open_key=None)
    at = ticket.created_at + timedelta(hours=1)
    escalated = ticket.updated(at, priority=Priority.URGENT)
    state = FollowUpState(ticket_id="TKT-X1", scheduled=_scheduled("order_check@2"))

    def event(n: int) -> TimelineEvent:
        return TimelineEvent(ticket_id="TKT-X1", at=at + timedelta(seconds=n), kind="follow_up",
                             detail={"n": n})

    assert store.commit("TKT-X1", claim="k@1", state=state, expected_version=0,
                        ticket=(escalated, ticket.version), events=[event(1)]) is True
    loaded = store.load("TKT-X1")
    assert (loaded.version, loaded.done, loaded.scheduled) == (1, {"k@1"}, state.scheduled)
    assert repo.get("TKT-X1").priority == Priority.URGENT
    assert [e.detail["n"] for e in repo.events("TKT-X1")] == [1]
    # the same occurrence again: False, and nothing written
    assert store.commit("TKT-X1", claim="k@1", state=state, expected_version=1,
                        events=[event(2)]) is False
    # a state or a ticket changed since: ConflictError, and nothing written
    with pytest.raises(ConflictError):
        store.commit("TKT-X1", claim="k@2", state=state, expected_version=0, events=[event(3)])
    with pytest.raises(ConflictError):
        store.commit("TKT-X1", claim="k@2", ticket=(escalated, ticket.version), events=[event(4)])
    assert (store.load("TKT-X1").version, store.load("TKT-X1").done) == (1, {"k@1"})
    assert [e.detail["n"] for e in repo.events("TKT-X1")] == [1]
    # one item alone (a plain write): the same answers
    assert store.commit("TKT-X1", claim="k@2") is True
    assert store.commit("TKT-X1", claim="k@2") is False
    with pytest.raises(ConflictError):
        store.commit("TKT-X1", state=state, expected_version=0)
    store.commit("TKT-X1", events=[event(5)])
    assert [e.detail["n"] for e in repo.events("TKT-X1")] == [1, 5]
    assert store.load("TKT-X1").done == {"k@1", "k@2"}
