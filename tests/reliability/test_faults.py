"""Faults around the real adapters: each mail is filed after retries or kept in the DLQ, and
`deskintake redrive` then leaves exactly the tickets a fault-free run makes."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest
from deskintake.commands import redrive

from tests.conftest import EXAMPLES
from tests.reliability.conftest import (
    AsyncLambda,
    Faults,
    fresh_stack,
    inbound_messages,
    put_mail,
    queue_depth,
    scan,
    tickets,
)

MAILS = sorted((EXAMPLES / "emails").glob("*.eml"))
DLQ = "EmailIntakeDeadLetterQueue"


def _args(**overrides: Any) -> argparse.Namespace:
    values = {"queue": [], "queue_url": [], "dry_run": False, "max": 1000, "visibility": 30}
    return argparse.Namespace(**{**values, **overrides})


def projection(stack: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a user sees of the tickets, without ids and times (which differ run to run)."""
    by_ticket: dict[str, list[str]] = {}
    for message in inbound_messages(stack):
        by_ticket.setdefault(message["ticket_id"], []).append(message["external_id"])
    acked = {i["ticket_id"] for i in scan(stack) if i["sk"].startswith("M#")
             and i.get("direction") == "out" and i.get("delivery_status") == "sent"}
    return sorted(
        (t["customer"], t["subject"], t["category"], t["priority"], t["status"],
         tuple(sorted(by_ticket.get(t["id"], []))), t["id"] in acked)
        for t in tickets(stack)
    )


def _fault_free() -> list[tuple[Any, ...]]:
    with fresh_stack() as stack:
        email = AsyncLambda(stack, "EmailIntakeFunction")
        for index, path in enumerate(MAILS):
            assert email.deliver(put_mail(stack, path.read_bytes(), f"ses{index:04d}")) is not None
        assert queue_depth(stack, DLQ) == 0
        return projection(stack)


def test_faults_end_in_the_dlq_and_redrive_gives_the_fault_free_tickets(
    faults: Faults, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = _fault_free()
    assert len(expected) == len(MAILS) and all(row[5] for row in expected)

    with fresh_stack() as stack:
        email = AsyncLambda(stack, "EmailIntakeFunction")
        from deskintake.runtime.wiring import client

        ddb, s3 = client("dynamodb"), client("s3")
        plan: dict[int, list[dict[str, Any]]] = {
            # transient: botocore's retries absorb these, nothing reaches the DLQ
            1: [dict(client=ddb, operation="TransactWriteItems", code="ThrottlingException", times=2)],
            5: [dict(client=ddb, operation="GetItem", code="ProvisionedThroughputExceededException",
                     times=1)],
            # permanent for this delivery (all Lambda attempts): DLQ, raw mail kept in S3
            2: [dict(client=s3, operation="GetObject", code="InternalError", status=500)],
            3: [dict(client=ddb, operation="TransactWriteItems", code="InternalServerError",
                     status=500)],
        }
        for index, path in enumerate(MAILS):
            for fault in plan.get(index, []):
                faults.fail(**fault)
            email.deliver(put_mail(stack, path.read_bytes(), f"ses{index:04d}"))
            faults.clear()
        assert faults.calls["TransactWriteItems"] > len(MAILS)  # the retries really happened
        assert queue_depth(stack, DLQ) == 2
        assert len(tickets(stack)) == len(MAILS) - 2
        raw = stack["client"]("s3").list_objects_v2(Bucket=stack["env"]["DESKINTAKE_RAW_BUCKET"],
                                                    Prefix="inbound/")
        assert len(raw["Contents"]) == len(MAILS)  # the failed mails' raw copies are kept

        # A Lambda that timed out after filing also lands in the DLQ: replay must not double it.
        email.sqs.send_message(QueueUrl=email.queue_url, MessageBody=json.dumps(
            {"requestPayload": put_mail(stack, MAILS[0].read_bytes(), "ses0000")}))

        assert redrive.run(_args()) == 0
        out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        summary = next(o for o in out if o.get("queue") == DLQ and "replayed" in o)
        assert (summary["replayed"], summary["failed"]) == (3, 0)
        assert queue_depth(stack, DLQ) == 0
        assert projection(stack) == expected
        assert redrive.run(_args()) == 0  # nothing left: a second run changes nothing
        assert projection(stack) == expected


def test_a_message_that_still_fails_stays_in_the_queue(faults: Faults) -> None:
    with fresh_stack() as stack:
        email = AsyncLambda(stack, "EmailIntakeFunction")
        from deskintake.runtime.wiring import client

        faults.fail(client("s3"), "GetObject", code="SlowDown", status=503)
        email.deliver(put_mail(stack, MAILS[0].read_bytes(), "ses0100"))
        assert queue_depth(stack, DLQ) == 1

        assert redrive.run(_args(visibility=0)) == 1  # S3 still failing: reported, kept
        assert queue_depth(stack, DLQ) == 1 and tickets(stack) == []
        faults.clear()
        assert redrive.run(_args()) == 0
        assert queue_depth(stack, DLQ) == 0 and len(tickets(stack)) == 1


def test_an_unreadable_dead_letter_is_kept_not_deleted(faults: Faults) -> None:
    with fresh_stack() as stack:
        email = AsyncLambda(stack, "EmailIntakeFunction")
        email.sqs.send_message(QueueUrl=email.queue_url, MessageBody="not json {")
        assert redrive.run(_args(visibility=0)) == 1
        assert queue_depth(stack, DLQ) == 1


def test_ses_failure_keeps_the_ticket_and_records_the_failed_ack(faults: Faults) -> None:
    with fresh_stack() as stack:
        email = AsyncLambda(stack, "EmailIntakeFunction")
        from deskintake.runtime.wiring import client

        faults.fail(client("ses"), "SendRawEmail", code="Throttling")
        assert email.deliver(put_mail(stack, MAILS[0].read_bytes(), "ses0200")) is not None
        assert queue_depth(stack, DLQ) == 0  # an acknowledgement is not worth losing a ticket
        (ticket,) = tickets(stack)
        outbound = [i for i in scan(stack) if i["sk"].startswith("M#") and i.get("direction") == "out"]
        assert [m["delivery_status"] for m in outbound] == ["failed"]
        (failed,) = [i for i in scan(stack) if i["sk"].startswith("E#") and i["kind"] == "send_failed"]
        assert failed["detail"]["message_id"] == outbound[0]["id"]
        assert "Throttling" in failed["detail"]["reason"]
        assert ticket["version"] == 1  # the failed ack changed nothing on the ticket itself


def test_scheduler_failure_keeps_the_ticket_and_the_sweep_plans_it(faults: Faults) -> None:
    with fresh_stack() as stack:
        email = AsyncLambda(stack, "EmailIntakeFunction")
        from deskintake.runtime.wiring import client

        scheduler = client("scheduler")
        assert scheduler.list_schedules(GroupName=stack["env"]["DESKINTAKE_SCHEDULE_GROUP"])["Schedules"] == []
        faults.fail(scheduler, "CreateSchedule", code="InternalServerException", status=500)
        assert email.deliver(put_mail(stack, MAILS[0].read_bytes(), "ses0300")) is not None
        assert len(tickets(stack)) == 1 and queue_depth(stack, DLQ) == 0
        group = stack["env"]["DESKINTAKE_SCHEDULE_GROUP"]
        assert scheduler.list_schedules(GroupName=group)["Schedules"] == []
        faults.clear()

        follow_up = AsyncLambda(stack, "FollowUpFunction")
        follow_up.deliver({"action": "sweep"})
        assert scheduler.list_schedules(GroupName=group)["Schedules"], "the sweep re-planned it"


def test_follow_up_dlq_is_replayed_once(faults: Faults, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DESKINTAKE_LOCAL", "1")  # lets the input's `now` jump to the due time
    with fresh_stack() as stack:
        email = AsyncLambda(stack, "EmailIntakeFunction")
        email.deliver(put_mail(stack, MAILS[0].read_bytes(), "ses0400"))
        (ticket,) = tickets(stack)
        from deskintake.runtime.wiring import client

        group = stack["env"]["DESKINTAKE_SCHEDULE_GROUP"]
        scheduler = client("scheduler")
        names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
        assert names, "intake planned follow-ups"
        payload = json.loads(scheduler.get_schedule(GroupName=group, Name=names[0])["Target"]["Input"])
        # The follow-up fires far in the future (local only: `now` in the input is honoured).
        payload["now"] = "2027-06-01T03:00:00+00:00"
        follow_up = AsyncLambda(stack, "FollowUpFunction")
        # Its first call reads the ticket with its follow-up state (one BatchGetItem).
        faults.fail(client("dynamodb"), "BatchGetItem", code="InternalServerError", status=500)
        assert follow_up.deliver(payload) is None
        assert queue_depth(stack, "FollowUpDeadLetterQueue") == 1
        faults.clear()
        capsys.readouterr()

        assert redrive.run(_args(queue=["FollowUpDeadLetterQueue"])) == 0
        assert queue_depth(stack, "FollowUpDeadLetterQueue") == 0
        lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith('{"queue"')]
        (replayed,) = [x for x in lines if x.get("status") == "replayed"]
        assert replayed["outcome"]["outcome"] == "acted", replayed
        after = [i for i in scan(stack) if i["pk"] == f"T#{ticket['id']}"]
        # Scheduler's own retry of the same occurrence arrives late: it must not act twice.
        again = follow_up.invoke(payload)
        assert again["outcome"] in {"duplicate", "stale"}, again
        assert [i for i in scan(stack) if i["pk"] == f"T#{ticket['id']}"] == after


def test_redrive_finds_every_on_failure_queue_of_the_template() -> None:
    from deskintake.local.template import LocalTemplate

    from tests.conftest import ROOT

    routes = redrive.routes(LocalTemplate.load(ROOT / "template.yaml"))
    assert {(r.queue, r.function) for r in routes} >= {
        ("EmailIntakeDeadLetterQueue", "EmailIntakeFunction"),
        ("FollowUpDeadLetterQueue", "FollowUpFunction"),
    }


@pytest.mark.parametrize("body,expected", [
    ('{"requestPayload": {"Records": [1]}, "responseContext": {}}', {"Records": [1]}),
    ('{"schedule": "x", "input": {"kind": "k", "ticket_id": "t"}, "error": "e"}',
     {"kind": "k", "ticket_id": "t"}),
    ('{"kind": "k", "ticket_id": "t"}', {"kind": "k", "ticket_id": "t"}),
])
def test_original_event_of_each_dead_letter_shape(body: str, expected: dict[str, Any]) -> None:
    assert redrive.original_event(body) == expected


def test_a_write_that_succeeded_but_whose_answer_was_lost_is_not_filed_twice(faults: Faults) -> None:
    with fresh_stack() as stack:
        email = AsyncLambda(stack, "EmailIntakeFunction")
        from deskintake.runtime.wiring import client

        # DynamoDB committed the ticket; every answer of that call is lost (botocore's retries
        # included), so the first invocation fails and Lambda invokes again.
        faults.fail(client("dynamodb"), "TransactWriteItems", code="InternalServerError", status=500,
                    lost_response=True, times=3)
        out = email.deliver(put_mail(stack, MAILS[3].read_bytes(), "ses0500"))
        assert out["outcomes"][0]["duplicate"] is True  # the retry found what the lost call stored
        assert queue_depth(stack, DLQ) == 0
        (ticket,) = tickets(stack)
        assert [m["ticket_id"] for m in inbound_messages(stack)] == [ticket["id"]]
