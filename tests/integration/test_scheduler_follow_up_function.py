"""Intake schedules follow-ups; the follow-up function fires them: both real handlers, in moto.

The clock is frozen with time-machine, so "16 minutes later" is exact.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
from deskintake.inbound.ses import ses_event
from deskintake.local.functions import LocalFunctions

from tests.conftest import EXAMPLES

# 07:31 WIB on Saturday 21 Nov 2026, the Date of the example mail.
ARRIVAL = datetime(2026, 11, 21, 0, 31, tzinfo=UTC)


@pytest.fixture
def functions(moto_stack: dict[str, Any]) -> LocalFunctions:
    return LocalFunctions(moto_stack["template"])


def ingest(stack: dict[str, Any], functions: LocalFunctions, name: str, message_id: str) -> str:
    raw = (EXAMPLES / "emails" / name).read_bytes()
    stack["client"]("s3").put_object(Bucket=stack["env"]["DESKINTAKE_RAW_BUCKET"],
                                     Key=f"inbound/{message_id}", Body=raw)
    out = functions.invoke("EmailIntakeFunction", ses_event(
        message_id, timestamp=ARRIVAL, source="x@example.net", recipients=["info@support.localhost"]))
    ticket_id: str = out["outcomes"][0]["ticket_id"]
    return ticket_id


def schedules(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    client = stack["client"]("scheduler")
    group = stack["env"]["DESKINTAKE_SCHEDULE_GROUP"]
    out = {}
    for summary in client.list_schedules(GroupName=group)["Schedules"]:
        out[summary["Name"]] = client.get_schedule(Name=summary["Name"], GroupName=group)
    return out


def test_pending_order_mail_is_checked_and_the_check_lands_on_the_timeline(
        moto_stack: dict[str, Any], functions: LocalFunctions) -> None:
    with time_machine.travel(ARRIVAL + timedelta(seconds=5), tick=False):
        ticket_id = ingest(moto_stack, functions, "01-id-order-pending.eml", "ses-fu-1")
    repo = DynamoTicketRepository(moto_stack["client"]("dynamodb"), moto_stack["env"]["DESKINTAKE_TABLE"])
    ticket = repo.get(ticket_id)
    assert (ticket.category, ticket.entities.get("payment_time")) == ("order_pending", "14:30")

    found = schedules(moto_stack)
    check = found[f"{ticket_id}.order_check"]
    # paid "14.30 tadi" but written at 07:31: yesterday's 14:30, so the check is overdue and
    # fires a minute after arrival; the operator check is 24 h after payment (today 14:30).
    assert check["ScheduleExpression"] == "at(2026-11-21T07:32:05)"
    assert found[f"{ticket_id}.order_operator_check"]["ScheduleExpression"] == "at(2026-11-21T14:30:00)"
    assert f"{ticket_id}.first_response" in found
    assert {s["ActionAfterCompletion"] for s in found.values()} == {"DELETE"}

    event = json.loads(check["Target"]["Input"])
    with time_machine.travel(ARRIVAL + timedelta(minutes=16), tick=False):
        first = functions.invoke("FollowUpFunction", event)
        again = functions.invoke("FollowUpFunction", event)  # Scheduler delivered twice
    assert (first["outcome"], again["outcome"]) == ("acted", "duplicate")
    checks = [e for e in repo.events(ticket_id) if e.kind == "follow_up"]
    assert [(e.detail["follow_up"], e.detail["action"]) for e in checks] == [("order_check", "remind_assignee")]
    assert checks[0].at == ARRIVAL + timedelta(minutes=16)
    assert checks[0].detail["order_ids"] == ticket.entities["order_ids"]


def test_a_fired_follow_up_reads_once_writes_once_and_publishes_once(
        moto_stack: dict[str, Any], functions: LocalFunctions) -> None:
    import boto3
    from deskintake.runtime import wiring

    with time_machine.travel(ARRIVAL + timedelta(seconds=5), tick=False):
        ticket_id = ingest(moto_stack, functions, "01-id-order-pending.eml", "ses-fu-3")
    event = json.loads(schedules(moto_stack)[f"{ticket_id}.order_check"]["Target"]["Input"])
    calls: list[str] = []

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    session = boto3.DEFAULT_SESSION._session  # type: ignore[union-attr]
    session.register("before-call", count)
    wiring.client.cache_clear()  # new clients, which inherit the hook
    try:
        with time_machine.travel(ARRIVAL + timedelta(minutes=16), tick=False):
            assert functions.invoke("FollowUpFunction", event)["outcome"] == "acted"
    finally:
        session.unregister("before-call", count)
        wiring.client.cache_clear()
    # ticket + follow-up state; claim + timeline entry + bookkeeping; the event. The schedule
    # that fired deletes itself (ActionAfterCompletion DELETE): no DeleteSchedule.
    assert calls == ["BatchGetItem", "TransactWriteItems", "PutEvents"]


def test_the_sweep_rule_event_runs_overdue_follow_ups(
        moto_stack: dict[str, Any], functions: LocalFunctions) -> None:
    with time_machine.travel(ARRIVAL, tick=False):
        ticket_id = ingest(moto_stack, functions, "01-id-order-pending.eml", "ses-fu-2")
    rule_event = {"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
                  "time": "2026-11-21T03:00:00Z", "detail": {}}
    with time_machine.travel(ARRIVAL + timedelta(hours=3), tick=False):
        out = functions.invoke("FollowUpFunction", rule_event)
    # 3 h late: the order check (due at arrival) and the 1-business-hour first response
    assert sorted(k.split("@")[0] for k in out["acted"]) == ["first_response", "order_check"]
    repo = DynamoTicketRepository(moto_stack["client"]("dynamodb"), moto_stack["env"]["DESKINTAKE_TABLE"])
    assert repo.get(ticket_id).priority == "urgent"  # high, escalated on the SLA breach
    assert {e.kind for e in repo.events(ticket_id)} >= {"follow_up", "sla_breached"}


def test_malformed_input_is_rejected_without_a_retry(functions: LocalFunctions) -> None:
    assert functions.invoke("FollowUpFunction", {"hello": "world"}) == {"outcome": "rejected"}
