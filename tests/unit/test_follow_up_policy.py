"""The follow-up policy with explicit times: business hours, midnight in Jakarta, holidays, pauses.

Expected times are worked out by hand from TAXONOMY.md's service policy (07:00-23:00 WIB,
every day, public holidays closed; WIB = UTC+7), not copied from the implementation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from deskintake.domain.follow_up_policy import (
    Action,
    BusinessCalendar,
    BusinessHours,
    FollowUpConfig,
    FollowUpHistory,
    FollowUpKind,
    FollowUpState,
    SlaTarget,
    add_business_time,
    customer_text,
    load_config,
    payment_moment,
    plan,
)
from deskintake.domain.model import Category, Channel, Lang, Priority, TicketStatus
from deskintake.domain.ticket import Ticket
from pydantic import ValidationError

WIB = ZoneInfo("Asia/Jakarta")
CFG = FollowUpConfig()


def wib(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=WIB)


def ticket(*, at: datetime, category: Category = Category.GENERAL_INQUIRY,
           priority: Priority = Priority.NORMAL, **changes: Any) -> Ticket:
    base = Ticket(id="TKT-TEST001", channel=Channel.EMAIL, customer="budi@mail.example.net",
                  category=category, priority=priority, lang=Lang.ID, created_at=at, updated_at=at,
                  last_customer_message_at=at, message_count=1)
    return base.model_copy(update=changes)


def by_kind(t: Ticket, now: datetime | None = None, history: FollowUpHistory | None = None,
            config: FollowUpConfig = CFG) -> dict[FollowUpKind, Any]:
    return {f.kind: f for f in plan(t, now or t.created_at, config, history)}


def due(t: Ticket, kind: FollowUpKind, **kw: Any) -> datetime:
    return by_kind(t, **kw)[kind].due_at.astimezone(WIB)


# ---------------------------------------------------------------- the packaged configuration


def test_packaged_configuration_matches_the_taxonomy_defaults() -> None:
    cfg = load_config()
    assert cfg == FollowUpConfig()
    assert cfg.first_response[Priority.URGENT] == SlaTarget(minutes=15, round_the_clock=True)
    assert cfg.first_response[Priority.LOW] == SlaTarget(business_days=1)
    assert (cfg.waiting_reminder_after_hours, cfg.waiting_close_after_hours) == (48, 72)


def test_configuration_rejects_nonsense() -> None:
    with pytest.raises(ValidationError):
        BusinessHours(opens="23:00", closes="07:00")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        FollowUpConfig(waiting_reminder_after_hours=72, waiting_close_after_hours=48)
    with pytest.raises(ValidationError):
        SlaTarget()
    with pytest.raises(ValidationError):
        BusinessHours(timezone="Mars/Olympus")


# ---------------------------------------------------------------- business time


def test_business_time_within_one_day() -> None:
    cal = BusinessCalendar(BusinessHours())
    assert add_business_time(wib(2026, 11, 20, 10), timedelta(hours=1), cal) == wib(2026, 11, 20, 11)


def test_business_time_carries_past_closing_into_the_next_morning() -> None:
    cal = BusinessCalendar(BusinessHours())
    # 22:30 + 1 h: 30 minutes before 23:00, the other 30 from 07:00 the next day.
    assert add_business_time(wib(2026, 11, 20, 22, 30), timedelta(hours=1), cal) == wib(2026, 11, 21, 7, 30)


def test_business_time_starting_at_night_begins_at_opening() -> None:
    cal = BusinessCalendar(BusinessHours())
    assert add_business_time(wib(2026, 11, 20, 3), timedelta(hours=1), cal) == wib(2026, 11, 20, 8)
    # exactly at closing counts as closed
    assert add_business_time(wib(2026, 11, 20, 23), timedelta(minutes=15), cal) == wib(2026, 11, 21, 7, 15)


def test_weekends_are_working_days_for_this_desk() -> None:
    cal = BusinessCalendar(BusinessHours())
    assert date(2026, 11, 21).weekday() == 5  # a Saturday
    assert add_business_time(wib(2026, 11, 21, 10), timedelta(hours=2), cal) == wib(2026, 11, 21, 12)


def test_public_holiday_from_the_holidays_package_is_closed() -> None:
    cal = BusinessCalendar(BusinessHours())
    assert cal.is_closed_day(date(2026, 12, 25))  # Christmas Day
    assert cal.is_closed_day(date(2026, 8, 17))  # Independence Day
    # 24 Dec 22:30 + 1 h: 30 min on the 24th, the 25th closed, 30 min on the 26th.
    assert add_business_time(wib(2026, 12, 24, 22, 30), timedelta(hours=1), cal) == wib(2026, 12, 26, 7, 30)


def test_eid_al_fitr_closes_two_days() -> None:
    cal = BusinessCalendar(BusinessHours())
    # Idul Fitri 1447 H falls on 21-22 March 2026.
    assert cal.is_closed_day(date(2026, 3, 21)) and cal.is_closed_day(date(2026, 3, 22))
    # 20 Mar 22:00 + 4 h: 1 h that night, then 3 h from 07:00 on 23 March.
    assert add_business_time(wib(2026, 3, 20, 22), timedelta(hours=4), cal) == wib(2026, 3, 23, 10)


def test_configured_extra_holiday_and_working_holiday() -> None:
    hours = BusinessHours(extra_holidays=frozenset({date(2026, 11, 23)}))
    cal = BusinessCalendar(hours)
    assert add_business_time(wib(2026, 11, 22, 22, 45), timedelta(hours=1), cal) == wib(2026, 11, 24, 7, 45)
    working = BusinessCalendar(BusinessHours(working_holidays=frozenset({date(2026, 12, 25)})))
    assert not working.is_closed_day(date(2026, 12, 25))
    assert add_business_time(wib(2026, 12, 24, 22, 30), timedelta(hours=1), working) == wib(2026, 12, 25, 7, 30)


def test_round_the_clock_ignores_hours_and_holidays() -> None:
    cal = BusinessCalendar(BusinessHours(), round_the_clock=True)
    assert add_business_time(wib(2026, 12, 24, 23, 50), timedelta(minutes=15), cal) == wib(2026, 12, 25, 0, 5)


def test_pauses_are_skipped_like_closed_hours() -> None:
    cal = BusinessCalendar(BusinessHours())
    pause = (wib(2026, 11, 20, 11), wib(2026, 11, 20, 15))
    # 10:00 + 4 h with 11:00-15:00 paused: 1 h before, 3 h after -> 18:00.
    assert add_business_time(wib(2026, 11, 20, 10), timedelta(hours=4), cal, pauses=[pause]) == wib(2026, 11, 20, 18)
    # a pause spanning the night changes nothing that the night did not already skip
    night = (wib(2026, 11, 20, 23), wib(2026, 11, 21, 7))
    assert add_business_time(wib(2026, 11, 20, 22), timedelta(hours=2), cal, pauses=[night]) == wib(2026, 11, 21, 8)


# ---------------------------------------------------------------- first-response SLAs


@pytest.mark.parametrize(("priority", "created", "expected"), [
    (Priority.URGENT, wib(2026, 11, 20, 23, 50), wib(2026, 11, 21, 0, 5)),  # round the clock
    (Priority.HIGH, wib(2026, 11, 20, 10), wib(2026, 11, 20, 11)),
    (Priority.HIGH, wib(2026, 11, 20, 22, 30), wib(2026, 11, 21, 7, 30)),
    (Priority.NORMAL, wib(2026, 11, 20, 21), wib(2026, 11, 21, 9)),  # 2 h + 2 h
    (Priority.NORMAL, wib(2026, 11, 21, 0, 30), wib(2026, 11, 21, 11)),  # after midnight
    (Priority.LOW, wib(2026, 11, 20, 10), wib(2026, 11, 21, 10)),  # one staffed day = 16 h
    (Priority.LOW, wib(2026, 12, 24, 10), wib(2026, 12, 26, 10)),  # over Christmas
])
def test_first_response_sla_per_priority(priority: Priority, created: datetime, expected: datetime) -> None:
    t = ticket(at=created, priority=priority)
    follow_up = by_kind(t)[FollowUpKind.FIRST_RESPONSE]
    assert follow_up.due_at == expected
    assert follow_up.action == Action.ESCALATE


def test_fraud_and_security_run_round_the_clock_even_when_not_urgent() -> None:
    t = ticket(at=wib(2026, 11, 20, 23, 30), category=Category.ACCOUNT_SECURITY, priority=Priority.HIGH)
    assert due(t, FollowUpKind.FIRST_RESPONSE) == wib(2026, 11, 21, 0, 30)
    general = ticket(at=wib(2026, 11, 20, 23, 30), priority=Priority.HIGH)
    assert due(general, FollowUpKind.FIRST_RESPONSE) == wib(2026, 11, 21, 8)


def test_no_first_response_sla_once_an_agent_answered() -> None:
    t = ticket(at=wib(2026, 11, 20, 10), first_response_at=wib(2026, 11, 20, 10, 20))
    assert FollowUpKind.FIRST_RESPONSE not in by_kind(t)
    assert FollowUpKind.NEXT_RESPONSE not in by_kind(t)


def test_next_response_sla_after_a_customer_reply() -> None:
    t = ticket(at=wib(2026, 11, 20, 9), priority=Priority.HIGH,
               first_response_at=wib(2026, 11, 20, 9, 30),
               last_customer_message_at=wib(2026, 11, 20, 22, 40))
    history = FollowUpHistory(last_agent_reply_at=wib(2026, 11, 20, 11))
    kinds = by_kind(t, history=history)
    assert FollowUpKind.FIRST_RESPONSE not in kinds
    # 22:40 + 1 business hour = 20 min that night + 40 min from 07:00
    assert kinds[FollowUpKind.NEXT_RESPONSE].due_at == wib(2026, 11, 21, 7, 40)
    # once an agent answers that reply, nothing is owed
    answered = FollowUpHistory(last_agent_reply_at=wib(2026, 11, 20, 22, 50))
    assert FollowUpKind.NEXT_RESPONSE not in by_kind(t, history=answered)


def test_sla_clock_pauses_while_waiting_on_the_customer() -> None:
    created = wib(2026, 11, 20, 10)
    waiting = ticket(at=created, status=TicketStatus.WAITING, updated_at=wib(2026, 11, 20, 11))
    kinds = by_kind(waiting, history=FollowUpHistory(waiting_since=wib(2026, 11, 20, 11)))
    assert FollowUpKind.FIRST_RESPONSE not in kinds  # no SLA runs while waiting
    reopened = ticket(at=created, updated_at=wib(2026, 11, 20, 15))
    history = FollowUpHistory(pauses=((wib(2026, 11, 20, 11), wib(2026, 11, 20, 15)),))
    assert due(reopened, FollowUpKind.FIRST_RESPONSE, history=history) == wib(2026, 11, 20, 18)


def test_state_records_waiting_periods_from_status_changes() -> None:
    created = wib(2026, 11, 20, 10)
    state = FollowUpState(ticket_id="TKT-TEST001")
    waiting = ticket(at=created, status=TicketStatus.WAITING, updated_at=wib(2026, 11, 20, 11))
    state = state.observe(waiting, now=wib(2026, 11, 20, 11))
    assert state.waiting_since == wib(2026, 11, 20, 11)
    assert state.observe(waiting, now=wib(2026, 11, 20, 12)) == state  # seen again: unchanged
    replied = ticket(at=created, updated_at=wib(2026, 11, 20, 15))
    state = state.observe(replied, now=wib(2026, 11, 20, 15))
    assert state.waiting_since is None
    assert state.pauses == ((wib(2026, 11, 20, 11), wib(2026, 11, 20, 15)),)


# ---------------------------------------------------------------- waiting on the customer


def test_waiting_ticket_gets_a_reminder_at_48_hours_and_closes_at_72() -> None:
    since = wib(2026, 11, 20, 22)
    t = ticket(at=wib(2026, 11, 20, 9), status=TicketStatus.WAITING, updated_at=since,
               first_response_at=wib(2026, 11, 20, 21))
    kinds = by_kind(t, now=since, history=FollowUpHistory(waiting_since=since))
    assert kinds[FollowUpKind.WAITING_REMINDER].due_at == wib(2026, 11, 22, 22)
    assert kinds[FollowUpKind.WAITING_REMINDER].action == Action.MESSAGE_CUSTOMER
    assert kinds[FollowUpKind.AUTO_CLOSE].due_at == wib(2026, 11, 23, 22)
    assert kinds[FollowUpKind.AUTO_CLOSE].action == Action.CLOSE
    assert set(kinds) == {FollowUpKind.WAITING_REMINDER, FollowUpKind.AUTO_CLOSE}


def test_reminder_texts_are_in_the_customers_language() -> None:
    t = ticket(at=wib(2026, 11, 20, 9))
    assert "menunggu balasan" in customer_text("waiting_reminder", t, CFG)
    assert "24 jam" in customer_text("waiting_reminder", t, CFG)  # 72 h - 48 h left
    assert "工单" in customer_text("auto_close", t.model_copy(update={"lang": Lang.ZH}), CFG)
    assert "closed" in customer_text("auto_close", t.model_copy(update={"lang": Lang.EN}), CFG)


# ---------------------------------------------------------------- pending orders and operators


def test_pending_order_gets_a_check_fifteen_minutes_after_payment() -> None:
    t = ticket(at=wib(2026, 11, 20, 14, 35), category=Category.ORDER_PENDING, priority=Priority.HIGH,
               entities={"payment_time": "14:30", "order_ids": ["INV-20261121-88412"]})
    kinds = by_kind(t)
    assert kinds[FollowUpKind.ORDER_CHECK].due_at == wib(2026, 11, 20, 14, 45)
    assert kinds[FollowUpKind.ORDER_CHECK].action == Action.REMIND_ASSIGNEE
    assert kinds[FollowUpKind.ORDER_CHECK].detail["order_ids"] == ["INV-20261121-88412"]
    assert kinds[FollowUpKind.ORDER_OPERATOR_CHECK].due_at == wib(2026, 11, 21, 14, 30)
    assert FollowUpKind.FIRST_RESPONSE in kinds  # the SLA runs alongside


def test_pending_order_without_a_payment_time_counts_from_the_message() -> None:
    t = ticket(at=wib(2026, 11, 20, 10), category=Category.ORDER_PENDING, priority=Priority.HIGH)
    assert due(t, FollowUpKind.ORDER_CHECK) == wib(2026, 11, 20, 10, 15)
    assert due(t, FollowUpKind.ORDER_OPERATOR_CHECK) == wib(2026, 11, 21, 10)


def test_payment_before_midnight_written_after_midnight_is_yesterdays() -> None:
    t = ticket(at=wib(2026, 11, 21, 0, 2), category=Category.ORDER_PENDING, priority=Priority.HIGH,
               entities={"payment_time": "23:50"})
    assert payment_moment(t, CFG) == wib(2026, 11, 20, 23, 50)
    assert due(t, FollowUpKind.ORDER_CHECK) == wib(2026, 11, 21, 0, 5)
    assert due(t, FollowUpKind.ORDER_OPERATOR_CHECK) == wib(2026, 11, 21, 23, 50)


def test_check_already_overdue_at_arrival_is_due_on_arrival() -> None:
    t = ticket(at=wib(2026, 11, 20, 16), category=Category.ORDER_PENDING, priority=Priority.HIGH,
               entities={"payment_time": "14:30"})
    assert due(t, FollowUpKind.ORDER_CHECK) == wib(2026, 11, 20, 16)


def test_payment_time_is_read_in_jakarta_whatever_the_arrival_zone() -> None:
    arrival = datetime(2026, 11, 20, 7, 35, tzinfo=UTC)  # 14:35 WIB
    t = ticket(at=arrival, category=Category.ORDER_PENDING, priority=Priority.HIGH,
               entities={"payment_time": "14:30"})
    assert due(t, FollowUpKind.ORDER_CHECK) == wib(2026, 11, 20, 14, 45)
    garbled = t.model_copy(update={"entities": {"payment_time": "25:99"}})
    assert payment_moment(garbled, CFG) is None


def test_product_not_received_creates_an_operator_follow_up_task() -> None:
    t = ticket(at=wib(2026, 11, 20, 10), category=Category.PRODUCT_NOT_RECEIVED, priority=Priority.HIGH)
    follow_up = by_kind(t)[FollowUpKind.OPERATOR_FOLLOW_UP]
    assert follow_up.due_at == wib(2026, 11, 20, 10, 30)
    assert follow_up.action == Action.REMIND_ASSIGNEE
    assert "operator" in follow_up.detail["task"]


# ---------------------------------------------------------------- what gets nothing


@pytest.mark.parametrize("changes", [
    {"status": TicketStatus.RESOLVED},
    {"status": TicketStatus.CLOSED},
    {"category": Category.SPAM, "priority": Priority.NONE},
    {"is_auto": True},
])
def test_no_follow_ups_for_resolved_closed_spam_or_automatic_mail(changes: dict[str, Any]) -> None:
    t = ticket(at=wib(2026, 11, 20, 10), category=Category.ORDER_PENDING, priority=Priority.HIGH)
    t = t.model_copy(update=changes)
    assert plan(t, wib(2026, 11, 20, 10), CFG) == []


def test_recategorising_drops_the_category_follow_ups() -> None:
    t = ticket(at=wib(2026, 11, 20, 10), category=Category.ORDER_PENDING, priority=Priority.HIGH)
    assert FollowUpKind.ORDER_CHECK in by_kind(t)
    moved = t.model_copy(update={"category": Category.BILLING_INQUIRY, "priority": Priority.NORMAL})
    assert set(by_kind(moved)) == {FollowUpKind.FIRST_RESPONSE}


def test_done_occurrences_are_left_out_and_keys_survive_a_moved_due_time() -> None:
    t = ticket(at=wib(2026, 11, 20, 10), priority=Priority.NORMAL)
    first = by_kind(t)[FollowUpKind.FIRST_RESPONSE]
    raised = by_kind(t.model_copy(update={"priority": Priority.HIGH}))[FollowUpKind.FIRST_RESPONSE]
    assert raised.key == first.key and raised.due_at < first.due_at
    assert by_kind(t, history=FollowUpHistory(done=frozenset({first.key}))) == {}


@pytest.mark.parametrize("minutes", [15, 60, 240, 16 * 60])
def test_latest_start_is_the_inverse_of_adding_staffed_time(minutes: int) -> None:
    # Nights (23:00-07:00 WIB) and Christmas Day, an Indonesian holiday, are closed.
    from deskintake.domain.follow_up_policy import latest_start

    calendar = BusinessCalendar(BusinessHours())
    duration = timedelta(minutes=minutes)
    start = datetime(2026, 12, 23, 0, 0, tzinfo=UTC)
    for hour in range(0, 24 * 5, 5):
        due = start + timedelta(hours=hour, minutes=17)
        latest = latest_start(due, duration, calendar)
        # Started then, the target is used up by `due`; started a second later, it is not yet.
        assert add_business_time(latest, duration, calendar) <= due
        assert add_business_time(latest + timedelta(seconds=1), duration, calendar) > due
