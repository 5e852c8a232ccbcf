"""The follow-up service over fakes, with explicit clocks: plan, fire, duplicates, sweep."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from deskintake.adapters.eventbridge_events import RecordingPublisher
from deskintake.domain.errors import TransientError
from deskintake.domain.model import (
    Category,
    Channel,
    Classification,
    InboundMessage,
    Lang,
    Priority,
    TicketStatus,
)
from deskintake.domain.ticket import Direction, Message, Ticket
from deskintake.services.follow_up import (
    FollowUpDeps,
    FollowUpService,
    run_due,
    scheduled_for,
    sweep,
)

from tests.fakes import InMemoryTicketRepository, RecordingSender
from tests.unit.follow_up_fakes import FakeScheduler, InMemoryFollowUpStore

WIB = ZoneInfo("Asia/Jakarta")
_ids = itertools.count(1)


def wib(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=WIB)


@pytest.fixture
def deps() -> FollowUpDeps:
    repo = InMemoryTicketRepository()
    return FollowUpDeps(tickets=repo, store=InMemoryFollowUpStore(repo), scheduler=FakeScheduler(),
                        events=RecordingPublisher(), senders={Channel.EMAIL: RecordingSender()})


def scheduler(deps: FollowUpDeps) -> FakeScheduler:
    assert isinstance(deps.scheduler, FakeScheduler)
    return deps.scheduler


def published(deps: FollowUpDeps, detail_type: str) -> list[dict[str, Any]]:
    assert isinstance(deps.events, RecordingPublisher)
    return [d for t, d in deps.events.events if t == detail_type]


def follow_up_events(deps: FollowUpDeps, ticket_id: str, kind: str | None = None) -> list[Any]:
    return [e for e in deps.tickets.events(ticket_id)
            if e.kind == "follow_up" and (kind is None or e.detail["follow_up"] == kind)]


def inbound(at: datetime, text: str = "Pulsa saya masih pending") -> InboundMessage:
    return InboundMessage(channel=Channel.EMAIL, external_id=f"<m{next(_ids)}@mail.example.net>",
                          customer="budi@mail.example.net", subject="Pulsa pending", text=text,
                          lang=Lang.ID, received_at=at)


def file(deps: FollowUpDeps, *, at: datetime, category: Category = Category.ORDER_PENDING,
         priority: Priority = Priority.HIGH, entities: dict[str, Any] | None = None) -> Ticket:
    message = inbound(at)
    classification = Classification(category=category, priority=priority, confidence=0.9,
                                     lang=Lang.ID, entities=entities or {})
    ticket = Ticket.open(message, classification, ticket_id=f"TKT-T{next(_ids):06d}")
    deps.tickets.create(ticket, Message.from_inbound(ticket.id, message), open_key=None)
    FollowUpService(deps).ticket_changed(ticket, now=at, reason="created")
    return ticket


def change(deps: FollowUpDeps, ticket: Ticket, now: datetime, **changes: Any) -> Ticket:
    current = deps.tickets.get(ticket.id)
    updated = current.updated(now, **changes)
    deps.tickets.save(updated, expected_version=current.version)
    FollowUpService(deps).ticket_changed(updated, now=now, reason="test")
    return updated


def fire(deps: FollowUpDeps, now: datetime) -> list[str]:
    """What EventBridge Scheduler would do by `now`: invoke the function with each due input."""
    outcomes = []
    for payload in scheduler(deps).fire_due(now):
        result = run_due(payload["kind"], payload["ticket_id"],
                         datetime.fromisoformat(payload["due_at"]), now, deps, key=payload["key"])
        outcomes.append(f"{payload['kind']}:{result.outcome}")
    return outcomes


# ---------------------------------------------------------------- planning and cancelling


def test_new_pending_order_schedules_its_check_and_sla(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    assert scheduler(deps).kinds(t.id) == {"order_check", "order_operator_check", "first_response"}
    check = scheduler(deps).get(t.id, "order_check")
    assert check is not None
    assert check["fire_at"] == wib(2026, 11, 20, 14, 45)
    assert check["payload"]["ticket_id"] == t.id and check["payload"]["kind"] == "order_check"
    listed = scheduled_for(t.id, deps.store)
    assert [p["kind"] for p in listed] == ["order_check", "first_response", "order_operator_check"]
    assert datetime.fromisoformat(listed[0]["due_at"]) == wib(2026, 11, 20, 14, 45)


def test_an_overdue_check_fires_a_minute_after_arrival(deps: FollowUpDeps) -> None:
    arrival = wib(2026, 11, 20, 16)
    t = file(deps, at=arrival, entities={"payment_time": "14:30"})
    check = scheduler(deps).get(t.id, "order_check")
    assert check is not None and check["fire_at"] == arrival + timedelta(minutes=1)


def test_planning_twice_changes_nothing(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35))
    calls = len(scheduler(deps).calls)
    FollowUpService(deps).ticket_changed(t, now=wib(2026, 11, 20, 14, 36), reason="again")
    assert len(scheduler(deps).calls) == calls


def test_resolving_cancels_every_follow_up(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35))
    change(deps, t, wib(2026, 11, 20, 14, 40), status=TicketStatus.RESOLVED)
    assert scheduler(deps).kinds(t.id) == set()
    assert scheduled_for(t.id, deps.store) == []
    assert fire(deps, wib(2026, 11, 22, 0)) == []


def test_recategorising_replaces_what_no_longer_applies(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 10))
    before = scheduler(deps).get(t.id, "first_response")
    change(deps, t, wib(2026, 11, 20, 10, 5), category=Category.BILLING_INQUIRY,
           priority=Priority.NORMAL)
    assert scheduler(deps).kinds(t.id) == {"first_response"}
    after = scheduler(deps).get(t.id, "first_response")
    assert before is not None and after is not None
    assert (before["fire_at"], after["fire_at"]) == (wib(2026, 11, 20, 11), wib(2026, 11, 20, 14))


def test_a_scheduler_outage_does_not_fail_intake(deps: FollowUpDeps) -> None:
    class Down(FakeScheduler):
        def schedule(self, *args: Any, **kwargs: Any) -> str:
            raise TransientError("scheduler unavailable")

    deps.scheduler = Down()
    t = file(deps, at=wib(2026, 11, 20, 10))  # must not raise
    assert scheduled_for(t.id, deps.store) == []  # nothing recorded as scheduled: the sweep retries


# ---------------------------------------------------------------- firing


def test_order_check_fires_and_is_recorded_on_the_timeline(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30",
                                                          "order_ids": ["INV-1"]})
    assert fire(deps, wib(2026, 11, 20, 14, 44)) == []
    assert fire(deps, wib(2026, 11, 20, 14, 46)) == ["order_check:acted"]
    [event] = follow_up_events(deps, t.id)
    assert event.detail["follow_up"] == "order_check"
    assert event.detail["action"] == "remind_assignee"
    assert event.detail["order_ids"] == ["INV-1"]
    assert event.at == wib(2026, 11, 20, 14, 46)
    [due] = published(deps, "FollowUpDue")
    assert (due["ticket_id"], due["follow_up"]) == (t.id, "order_check")
    # the check is done; the 24-hour operator check is still ahead
    assert [p["kind"] for p in scheduled_for(t.id, deps.store)] == ["first_response",
                                                                    "order_operator_check"]


def test_a_duplicate_fire_acts_once(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    payload = scheduler(deps).get(t.id, "order_check")
    assert payload is not None
    args = ("order_check", t.id, datetime.fromisoformat(payload["payload"]["due_at"]))
    first = run_due(*args, wib(2026, 11, 20, 14, 46), deps, key=payload["payload"]["key"])
    second = run_due(*args, wib(2026, 11, 20, 14, 47), deps, key=payload["payload"]["key"])
    assert (first.outcome, second.outcome) == ("acted", "duplicate")
    assert len(follow_up_events(deps, t.id)) == 1
    assert len(published(deps, "FollowUpDue")) == 1


def test_concurrent_fires_act_once(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def go() -> None:
        barrier.wait()
        outcomes.append(run_due("order_check", t.id, None, wib(2026, 11, 20, 14, 46), deps).outcome)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["acted", "duplicate", "duplicate", "duplicate"]
    assert len(follow_up_events(deps, t.id)) == 1


def test_a_fire_racing_a_resolve_does_nothing(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    current = deps.tickets.get(t.id)
    # resolved, but the cancellation has not happened yet when the schedule fires
    deps.tickets.save(current.with_status(TicketStatus.RESOLVED, wib(2026, 11, 20, 14, 44)),
                      expected_version=current.version)
    assert fire(deps, wib(2026, 11, 20, 14, 46)) == ["order_check:stale"]
    assert follow_up_events(deps, t.id) == []


def test_an_early_fire_for_a_moved_follow_up_waits_for_its_new_time(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 10), category=Category.GENERAL_INQUIRY,
             priority=Priority.NORMAL)
    old = scheduler(deps).get(t.id, "first_response")
    assert old is not None
    change(deps, t, wib(2026, 11, 20, 10, 30), priority=Priority.LOW)  # due moves to tomorrow
    result = run_due("first_response", t.id, datetime.fromisoformat(old["payload"]["due_at"]),
                     wib(2026, 11, 20, 14, 1), deps, key=old["payload"]["key"])
    assert result.outcome == "not_due"
    assert deps.tickets.get(t.id).priority == Priority.LOW
    assert fire(deps, wib(2026, 11, 21, 10, 1)) == ["first_response:acted"]


def test_first_response_breach_escalates_once(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 10), category=Category.GENERAL_INQUIRY,
             priority=Priority.NORMAL)
    assert fire(deps, wib(2026, 11, 20, 13, 59)) == []
    assert fire(deps, wib(2026, 11, 20, 14, 0)) == ["first_response:acted"]
    assert deps.tickets.get(t.id).priority == Priority.HIGH
    [breach] = published(deps, "SlaBreached")
    assert (breach["sla"], breach["priority_before"], breach["priority_after"]) == (
        "first_response", "normal", "high")
    assert [e["change"] for e in published(deps, "TicketUpdated")] == ["priority_escalated"]
    assert [e.kind for e in deps.tickets.events(t.id)].count("sla_breached") == 1
    # the higher priority does not restart the same SLA: nothing more is scheduled
    assert scheduler(deps).kinds(t.id) == set()
    assert fire(deps, wib(2026, 11, 22, 0)) == []


def test_next_response_sla_after_the_customer_writes_again(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 9), category=Category.GENERAL_INQUIRY)
    answered = deps.tickets.get(t.id).agent_replied(wib(2026, 11, 20, 9, 30))
    deps.tickets.save(answered, expected_version=t.version)
    FollowUpService(deps).ticket_changed(answered, now=wib(2026, 11, 20, 9, 30), reason="agent")
    assert scheduler(deps).kinds(t.id) == set()
    reply = inbound(wib(2026, 11, 20, 12))
    replied = answered.customer_replied(reply)
    deps.tickets.append(replied, Message.from_inbound(t.id, reply), expected_version=answered.version)
    FollowUpService(deps).ticket_changed(replied, now=wib(2026, 11, 20, 12), reason="customer")
    nxt = scheduler(deps).get(t.id, "next_response")
    assert nxt is not None and nxt["fire_at"] == wib(2026, 11, 20, 13)


# ---------------------------------------------------------------- waiting on the customer


def waiting_ticket(deps: FollowUpDeps, since: datetime) -> Ticket:
    t = file(deps, at=since - timedelta(hours=1), category=Category.ACCOUNT_ACCESS,
             priority=Priority.NORMAL)
    answered = deps.tickets.get(t.id).agent_replied(since)
    deps.tickets.save(answered, expected_version=t.version)
    waiting = answered.with_status(TicketStatus.WAITING, since)
    deps.tickets.save(waiting, expected_version=answered.version)
    FollowUpService(deps).ticket_changed(waiting, now=since, reason="status")
    return waiting


def test_waiting_ticket_is_reminded_then_closed(deps: FollowUpDeps) -> None:
    since = wib(2026, 11, 20, 22)
    t = waiting_ticket(deps, since)
    assert scheduler(deps).kinds(t.id) == {"waiting_reminder", "auto_close"}
    assert fire(deps, since + timedelta(hours=47)) == []
    assert fire(deps, since + timedelta(hours=48, minutes=1)) == ["waiting_reminder:acted"]
    sender = deps.senders[Channel.EMAIL]
    assert isinstance(sender, RecordingSender)
    [(_, reminder)] = sender.sent
    assert "menunggu balasan" in reminder.text and reminder.is_auto
    assert reminder.subject.startswith(f"[{t.id}]")
    assert reminder.meta["in_reply_to"]  # threads under the customer's mail
    assert deps.tickets.get(t.id).status == TicketStatus.WAITING
    assert fire(deps, since + timedelta(hours=72, minutes=1)) == ["auto_close:acted"]
    closed = deps.tickets.get(t.id)
    assert closed.status == TicketStatus.CLOSED and closed.closed_at is not None
    assert len(sender.sent) == 2 and "ditutup" not in sender.sent[0][1].text
    assert [e["reason"] for e in published(deps, "TicketClosed")] == ["no_customer_reply"]
    assert scheduler(deps).kinds(t.id) == set()
    outbound = [m for m in deps.tickets.messages(t.id) if m.direction == Direction.OUTBOUND]
    assert [m.delivery_status for m in outbound] == ["sent", "sent"]


def test_customer_reply_while_waiting_cancels_the_nudges_and_resumes_the_sla(
        deps: FollowUpDeps) -> None:
    created = wib(2026, 11, 20, 10)
    t = file(deps, at=created, category=Category.GENERAL_INQUIRY, priority=Priority.NORMAL)
    # set to waiting at 11:00 without an answer (e.g. asked for details on the phone)
    change(deps, t, wib(2026, 11, 20, 11), status=TicketStatus.WAITING)
    assert scheduler(deps).kinds(t.id) == {"waiting_reminder", "auto_close"}
    current = deps.tickets.get(t.id)
    reply = inbound(wib(2026, 11, 20, 15))
    replied = current.customer_replied(reply)
    deps.tickets.append(replied, Message.from_inbound(t.id, reply), expected_version=current.version)
    FollowUpService(deps).ticket_changed(replied, now=wib(2026, 11, 20, 15), reason="customer")
    assert scheduler(deps).kinds(t.id) == {"first_response"}
    sla = scheduler(deps).get(t.id, "first_response")
    # 4 business hours from 10:00 with 11:00-15:00 paused -> 18:00
    assert sla is not None and sla["fire_at"] == wib(2026, 11, 20, 18)


def test_a_failed_action_can_be_retried(deps: FollowUpDeps) -> None:
    since = wib(2026, 11, 20, 22)
    t = waiting_ticket(deps, since)
    store = deps.store
    assert isinstance(store, InMemoryFollowUpStore)
    real_commit = store.commit
    failures = [TransientError("DynamoDB throttled")]

    def flaky_commit(ticket_id: str, **kwargs: Any) -> bool:
        if failures:
            raise failures.pop()
        return real_commit(ticket_id, **kwargs)

    store.commit = flaky_commit  # type: ignore[method-assign]
    now = since + timedelta(hours=73)
    with pytest.raises(TransientError):
        run_due("auto_close", t.id, None, now, deps)
    assert deps.tickets.get(t.id).status == TicketStatus.WAITING  # nothing was written
    assert run_due("auto_close", t.id, None, now, deps).outcome == "acted"
    assert deps.tickets.get(t.id).status == TicketStatus.CLOSED


def test_a_failed_send_releases_the_claim_so_the_retry_sends_once(deps: FollowUpDeps) -> None:
    since = wib(2026, 11, 20, 22)
    t = waiting_ticket(deps, since)
    real_add = deps.tickets.add_message
    failures = [TransientError("DynamoDB throttled")]

    def flaky_add(message: Message) -> None:
        if failures:
            raise failures.pop()
        real_add(message)

    deps.tickets.add_message = flaky_add  # type: ignore[method-assign]
    now = since + timedelta(hours=48, minutes=1)
    with pytest.raises(TransientError):
        run_due("waiting_reminder", t.id, None, now, deps)
    assert follow_up_events(deps, t.id) == [] and published(deps, "FollowUpDue") == []
    assert run_due("waiting_reminder", t.id, None, now, deps).outcome == "acted"
    assert run_due("waiting_reminder", t.id, None, now, deps).outcome == "duplicate"
    sender = deps.senders[Channel.EMAIL]
    assert isinstance(sender, RecordingSender) and len(sender.sent) == 1
    assert len(follow_up_events(deps, t.id, "waiting_reminder")) == 1


def test_a_fire_claims_records_and_saves_in_one_write(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    store = deps.store
    assert isinstance(store, InMemoryFollowUpStore)
    before = (store.loads, len(scheduler(deps).calls))
    assert fire(deps, wib(2026, 11, 20, 14, 46)) == ["order_check:acted"]
    # the claim, the timeline entry and the bookkeeping went together; the state was read with
    # the ticket; the schedule that fired deleted itself, so nothing was cancelled
    assert store.commits == [{"claim": "order_check@20261120T073000Z", "state": True,
                              "ticket": False, "events": 1}]
    assert (store.loads, len(scheduler(deps).calls)) == before
    assert [p["kind"] for p in scheduled_for(t.id, deps.store)] == ["first_response",
                                                                    "order_operator_check"]
    assert [t for t, _ in deps.events.events] == ["FollowUpDue"]  # type: ignore[attr-defined]


def test_an_escalation_changes_the_ticket_with_the_claim(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 10), category=Category.GENERAL_INQUIRY,
             priority=Priority.NORMAL)
    store = deps.store
    assert isinstance(store, InMemoryFollowUpStore)
    assert fire(deps, wib(2026, 11, 20, 14, 0)) == ["first_response:acted"]
    assert store.commits == [{"claim": "first_response@20261120T030000Z", "state": True,
                              "ticket": True, "events": 2}]
    assert deps.tickets.get(t.id).version == t.version + 1


def test_a_ticket_changed_under_a_fire_is_read_again(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 10), category=Category.GENERAL_INQUIRY,
             priority=Priority.NORMAL)
    store = deps.store
    assert isinstance(store, InMemoryFollowUpStore)
    real = store.load_with_ticket
    raced = []

    def load_then_agent_assigns(ticket_id: str) -> tuple[Ticket, Any]:
        loaded = real(ticket_id)
        if not raced:  # an agent saves the ticket between the read and the escalation
            raced.append(deps.tickets.get(ticket_id).updated(wib(2026, 11, 20, 14), assignee="sari"))
            deps.tickets.save(raced[0], expected_version=raced[0].version - 1)
        return loaded

    store.load_with_ticket = load_then_agent_assigns  # type: ignore[method-assign]
    assert run_due("first_response", t.id, None, wib(2026, 11, 20, 14, 0), deps).outcome == "acted"
    final = deps.tickets.get(t.id)
    assert (final.assignee, final.priority) == ("sari", Priority.HIGH)  # neither change lost
    assert [e.kind for e in deps.tickets.events(t.id)].count("sla_breached") == 1


def test_a_sweep_that_runs_a_follow_up_cancels_its_pending_schedule(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    assert "order_check" in scheduler(deps).kinds(t.id)  # e.g. Scheduler was late
    result = sweep(wib(2026, 11, 20, 14, 55), deps)
    assert [k.split("@")[0] for k in result.acted] == ["order_check"]
    assert scheduler(deps).kinds(t.id) == {"order_operator_check", "first_response"}


# ---------------------------------------------------------------- planning a new ticket


def test_a_new_tickets_plan_does_not_read_its_state(deps: FollowUpDeps) -> None:
    store = deps.store
    assert isinstance(store, InMemoryFollowUpStore)
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    assert store.loads == 0
    assert store.load(t.id).version == 1


def test_planning_a_new_ticket_again_does_not_clobber_what_happened_since(
        deps: FollowUpDeps) -> None:
    # e.g. a redelivered mail finishing an interrupted intake plans "created" once more
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    assert fire(deps, wib(2026, 11, 20, 14, 46)) == ["order_check:acted"]
    done = deps.store.load(t.id)
    FollowUpService(deps).ticket_changed(deps.tickets.get(t.id), now=wib(2026, 11, 20, 14, 47),
                                         reason="created")
    again = deps.store.load(t.id)
    assert again.done == done.done and again.version >= done.version
    assert scheduler(deps).kinds(t.id) == {"order_operator_check", "first_response"}
    assert [p["kind"] for p in scheduled_for(t.id, deps.store)] == ["first_response",
                                                                    "order_operator_check"]
    assert fire(deps, wib(2026, 11, 20, 15, 0)) == []


def test_concurrent_plans_of_a_new_ticket_agree(deps: FollowUpDeps) -> None:
    message = inbound(wib(2026, 11, 20, 14, 35))
    classification = Classification(category=Category.ORDER_PENDING, priority=Priority.HIGH,
                                    confidence=0.9, lang=Lang.ID, entities={"payment_time": "14:30"})
    t = Ticket.open(message, classification, ticket_id="TKT-RACE01")
    deps.tickets.create(t, Message.from_inbound(t.id, message), open_key=None)
    barrier = threading.Barrier(3)

    def plan_it() -> None:
        barrier.wait()
        FollowUpService(deps).ticket_changed(t, now=wib(2026, 11, 20, 14, 35), reason="created")

    threads = [threading.Thread(target=plan_it) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds = {"order_check", "order_operator_check", "first_response"}
    assert scheduler(deps).kinds(t.id) == kinds
    assert {p["kind"] for p in scheduled_for(t.id, deps.store)} == kinds
    assert fire(deps, wib(2026, 11, 20, 14, 46)) == ["order_check:acted"]


# ---------------------------------------------------------------- sweep


class Outage(FakeScheduler):
    down = True

    def schedule(self, *args: Any, **kwargs: Any) -> str:
        if self.down:
            raise TransientError("scheduler unavailable")
        return super().schedule(*args, **kwargs)


def test_sweep_runs_what_was_missed_and_schedules_what_failed(deps: FollowUpDeps) -> None:
    deps.scheduler = outage = Outage()
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    quiet = file(deps, at=wib(2026, 11, 20, 16), category=Category.FEEDBACK, priority=Priority.LOW)
    assert outage.schedules == {}
    outage.down = False
    result = sweep(wib(2026, 11, 20, 16, 10), deps)
    assert result.tickets == 2
    assert sorted(k.split("@")[0] for k in result.acted) == ["first_response", "order_check"]
    assert {e.detail["follow_up"] for e in follow_up_events(deps, t.id)} == {"order_check",
                                                                             "first_response"}
    assert scheduler(deps).kinds(t.id) == {"order_operator_check"}
    assert scheduler(deps).kinds(quiet.id) == {"first_response"}
    assert sweep(wib(2026, 11, 20, 16, 11), deps).acted == []


def test_sweep_leaves_just_due_follow_ups_to_their_schedule(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    assert sweep(wib(2026, 11, 20, 14, 47), deps).acted == []  # due 14:45, within the grace
    assert follow_up_events(deps, t.id) == []


def test_verifying_sweep_recreates_schedules_the_scheduler_forgot(deps: FollowUpDeps) -> None:
    t = file(deps, at=wib(2026, 11, 20, 14, 35), entities={"payment_time": "14:30"})
    scheduler(deps).schedules.clear()  # the local stack restarted: moto forgot its schedules
    assert sweep(wib(2026, 11, 20, 14, 36), deps).acted == []
    assert scheduler(deps).kinds(t.id) == set()  # bookkeeping alone cannot tell
    sweep(wib(2026, 11, 20, 14, 36), deps, verify=True)
    assert scheduler(deps).kinds(t.id) == {"order_check", "order_operator_check", "first_response"}
