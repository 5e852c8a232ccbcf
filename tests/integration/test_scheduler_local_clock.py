"""The local clock fires what moto only stores: due schedules invoke, then delete themselves."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from deskintake.adapters.eventbridge_scheduler import EventBridgeFollowUpScheduler
from deskintake.commands.followups import parse_time
from deskintake.local.clock import ScheduleFirer, follow_up_function

NOW = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)


@pytest.fixture
def parts(moto_stack: dict[str, Any]) -> tuple[EventBridgeFollowUpScheduler, Any, str]:
    env = moto_stack["env"]
    client = moto_stack["client"]("scheduler")
    adapter = EventBridgeFollowUpScheduler(
        client, group=env["DESKINTAKE_SCHEDULE_GROUP"], target_arn=env["DESKINTAKE_FOLLOW_UP_ARN"],
        role_arn=env["DESKINTAKE_SCHEDULER_ROLE_ARN"], dead_letter_arn=env["DESKINTAKE_FOLLOW_UP_DLQ_ARN"])
    sqs = moto_stack["client"]("sqs")
    dlq = sqs.get_queue_url(QueueName="FollowUpDeadLetterQueue")["QueueUrl"]
    return adapter, sqs, dlq


def test_due_schedules_fire_once_and_are_deleted(parts: tuple[Any, Any, str]) -> None:
    adapter, sqs, dlq = parts
    adapter.schedule("TKT-A", "order_check", fire_at=NOW - timedelta(minutes=1), payload={"k": "a"})
    adapter.schedule("TKT-B", "order_check", fire_at=NOW + timedelta(minutes=20), payload={"k": "b"})
    seen: list[dict[str, Any]] = []
    firer = ScheduleFirer(adapter._client, adapter.group, lambda e: seen.append(e) or {"outcome": "acted"},
                          sqs=sqs, dead_letter_url=dlq)

    assert [s.name for s in firer.due(NOW)] == ["TKT-A.order_check"]
    assert [s.name for s in firer.due(NOW + timedelta(minutes=20))] == ["TKT-A.order_check",
                                                                       "TKT-B.order_check"]
    firer.fire(NOW)
    assert seen == [{"k": "a"}]
    assert firer.fire(NOW) == []  # deleted after firing: ActionAfterCompletion DELETE
    # jumping ahead an hour: it runs as if at its own time, twenty minutes from now
    firer.fire(NOW + timedelta(hours=1), jump_from=NOW)
    assert seen[-1] == {"k": "b", "now": (NOW + timedelta(minutes=20)).isoformat()}


def test_a_failed_invocation_is_dead_lettered(parts: tuple[Any, Any, str]) -> None:
    adapter, sqs, dlq = parts
    adapter.schedule("TKT-C", "auto_close", fire_at=NOW, payload={"k": "c"})

    def broken(event: dict[str, Any]) -> Any:
        raise RuntimeError("table unavailable")

    firer = ScheduleFirer(adapter._client, adapter.group, broken, sqs=sqs, dead_letter_url=dlq)
    [(schedule, result)] = firer.fire(NOW)
    assert result["outcome"] == "failed"
    [message] = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert json.loads(message["Body"])["input"] == {"k": "c"}
    assert firer.pending() == []


def test_a_schedule_moved_while_firing_is_kept(parts: tuple[Any, Any, str]) -> None:
    adapter, sqs, dlq = parts
    adapter.schedule("TKT-D", "next_response", fire_at=NOW, payload={"k": "old"})

    def moves_it(event: dict[str, Any]) -> Any:
        adapter.schedule("TKT-D", "next_response", fire_at=NOW + timedelta(hours=1), payload={"k": "new"})
        return {"outcome": "not_due"}

    firer = ScheduleFirer(adapter._client, adapter.group, moves_it)
    firer.fire(NOW)
    [kept] = firer.pending()
    assert (kept.fire_at, kept.payload) == (NOW + timedelta(hours=1), {"k": "new"})


def test_the_clock_targets_the_follow_up_function_of_the_template(moto_stack: dict[str, Any]) -> None:
    assert follow_up_function(moto_stack["template"]) == "FollowUpFunction"


def test_command_times() -> None:
    assert parse_time("now", now=NOW) == NOW
    assert parse_time("+16m", now=NOW) == NOW + timedelta(minutes=16)
    assert parse_time("+2h", now=NOW) == NOW + timedelta(hours=2)
    assert parse_time("+3d", now=NOW) == NOW + timedelta(days=3)
    assert parse_time("2026-11-21T14:46", now=NOW) == datetime(2026, 11, 21, 7, 46, tzinfo=UTC)  # WIB
    assert parse_time("2026-11-21T14:46+00:00", now=NOW) == datetime(2026, 11, 21, 14, 46, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_time("tomorrow-ish", now=NOW)
