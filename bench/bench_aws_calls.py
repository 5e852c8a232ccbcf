"""AWS API calls per message, counted with botocore's before-call hook, in moto.

Usage: .venv/bin/python bench/bench_aws_calls.py

Every resource of template.yaml is created in an in-process moto (as tests/conftest.py does);
the real handlers run through deskintake.local.functions. Counted: the calls the functions make
(setup, such as the S3 object SES would have written, is not counted). Scenarios: a new email
ticket, a threaded email reply, the first chat message of a customer, a second one (threaded),
and two follow-up runs: the order check (a reminder) and the first-response SLA breach (an
escalation). Each line ends with the minimum the design allows (see PERFORMANCE.md).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, function_env  # noqa: E402

ARRIVAL = datetime(2026, 11, 21, 0, 31, tzinfo=UTC)  # 07:31 WIB on a Saturday

# The least each scenario can do with this design (PERFORMANCE.md, "AWS calls per message", says
# why), not counting Scheduler calls: EventBridge Scheduler has no batch API, so every planned
# follow-up is one CreateSchedule on top.
MINIMUM = {
    "new email ticket": 5,
    "threaded email reply": 5,
    "chat message, new ticket": 5,
    "chat message, threaded": 5,
    "follow-up run": 3,
    "follow-up, SLA breach": 3,
}


def _size(value: Any) -> int:
    """Approximate DynamoDB size of an attribute value (AttributeValue JSON), in bytes."""
    (kind, v), = value.items()
    if kind in ("S", "B"):
        return len(v.encode("utf-8")) if isinstance(v, str) else len(v)
    if kind == "N":
        return len(v) // 2 + 2
    if kind in ("M",):
        return 3 + sum(len(k.encode()) + 1 + _size(x) for k, x in v.items())
    if kind == "L":
        return 3 + sum(1 + _size(x) for x in v)
    if kind in ("SS", "NS"):
        return sum(len(x) for x in v)
    return 1


def item_size(item: dict[str, Any]) -> int:
    return sum(len(k.encode()) + _size(v) for k, v in item.items())


class Calls:
    """Counts (service, operation) of every API call made through boto3's default session, and
    estimates the DynamoDB write units of the items written (1 WCU per KB, 2 in a transaction;
    an item with gsi keys also writes to the two GSIs, which project ALL attributes)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.wcu = 0.0
        self.gsi_wcu = 0.0

    def _put(self, item: dict[str, Any], factor: int) -> None:
        units = max(1, -(-item_size(item) // 1024))
        self.wcu += units * factor
        if "gsi1pk" in item:
            self.gsi_wcu += 2 * units

    def __call__(self, model: Any, params: Any = None, **_: Any) -> None:
        self.seen.append((model.service_model.service_name, model.name))
        if model.service_model.service_name != "dynamodb" or not isinstance(params, dict):
            return
        params = json.loads(params.get("body") or b"{}")  # the serialised request (JSON protocol)
        if model.name == "PutItem":
            self._put(params["Item"], 1)
        elif model.name == "UpdateItem":  # lower bound: key and new values, not the whole item
            self._put(dict(params["Key"], **params.get("ExpressionAttributeValues", {})), 1)
        elif model.name == "TransactWriteItems":
            for op in params["TransactItems"]:
                if "Put" in op:
                    self._put(op["Put"]["Item"], 2)
                elif "Update" in op:
                    self._put(dict(op["Update"]["Key"], **op["Update"].get("ExpressionAttributeValues", {})), 2)
                elif "Delete" in op or "ConditionCheck" in op:
                    self.wcu += 2

    def take(self) -> tuple[list[tuple[str, str]], float, float]:
        out, self.seen = self.seen, []
        units, self.wcu, gsi, self.gsi_wcu = self.wcu, 0.0, self.gsi_wcu, 0.0
        return out, units, gsi


def report(name: str, taken: tuple[list[tuple[str, str]], float, float]) -> None:
    calls, wcu, gsi = taken
    ops = Counter(f"{s}:{o}" for s, o in calls)
    listed = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in ops.items())
    schedules = sum(1 for s, o in calls if s == "scheduler" and o == "CreateSchedule")
    least = MINIMUM[name] + schedules
    print(f"  {name:26s} {len(calls):3d} calls, {len(calls) / least:.1f}x the design minimum "
          f"{least}; ~{wcu:.0f} WCU table + {gsi:.0f} WCU GSIs: {listed}")


def main() -> int:
    import boto3
    import time_machine
    from deskintake.inbound.ses import ses_event
    from deskintake.local.aws import create_template_resources
    from deskintake.local.functions import LocalFunctions
    from deskintake.local.gateway import v2_event
    from deskintake.local.stack import LOCAL_SUPPORT_ADDRESS, local_secrets
    from deskintake.local.template import HttpRoute, LocalTemplate
    from moto import mock_aws

    env = function_env()
    os.environ.update({k: v for k, v in env.items() if k.startswith(("DESKINTAKE_", "AWS_", "POWERTOOLS_"))})
    os.environ.update(local_secrets())
    os.environ.update({"DESKINTAKE_LOCAL": "1", "POWERTOOLS_METRICS_DISABLED": "1",
                       "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_TRACE_DISABLED": "1"})
    import warnings

    warnings.filterwarnings("ignore")
    template = LocalTemplate.load(ROOT / "template.yaml", SupportAddress=LOCAL_SUPPORT_ADDRESS)
    counter = Calls()
    with mock_aws():
        setup = boto3.Session(region_name="ap-southeast-1")
        create_template_resources(template, lambda s: setup.client(s),
                                  verified_senders=[LOCAL_SUPPORT_ADDRESS])
        boto3.setup_default_session(region_name="ap-southeast-1")
        # The functions' clients come from the default session and inherit its handlers.
        boto3.DEFAULT_SESSION._session.register("before-call", counter)  # type: ignore[union-attr]
        functions = LocalFunctions(template)
        s3 = setup.client("s3")
        bucket = env["DESKINTAKE_RAW_BUCKET"]

        def deliver(raw: bytes, message_id: str) -> dict[str, Any]:
            s3.put_object(Bucket=bucket, Key=f"inbound/{message_id}", Body=raw)
            return functions.invoke("EmailIntakeFunction", ses_event(
                message_id, timestamp=ARRIVAL, source="budi@example.net",
                recipients=[LOCAL_SUPPORT_ADDRESS]))

        print("AWS API calls per message (moto, real handlers; setup calls not counted)")
        raw = (ROOT / "examples" / "emails" / "01-id-order-pending.eml").read_bytes()
        with time_machine.travel(ARRIVAL + timedelta(seconds=5), tick=False):
            out = deliver(raw, "bench-ses-1")
        first = out["outcomes"][0]
        assert first.get("created"), out
        report("new email ticket", counter.take())

        reply = EmailMessage()
        reply["From"] = "Budi <budi@example.net>"
        reply["To"] = LOCAL_SUPPORT_ADDRESS
        reply["Subject"] = "Re: pulsa belum masuk"
        reply["Message-ID"] = "<bench-reply-1@example.net>"
        ack = next((i["external_id"]["S"] for i in setup.client("dynamodb").query(
            TableName=env["DESKINTAKE_TABLE"], KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"T#{first['ticket_id']}"}})["Items"]
            if i.get("direction", {}).get("S") == "out"), None)
        if ack:
            reply["In-Reply-To"] = f"<{ack}>"
        reply.set_content("Sudah saya cek lagi, pulsanya tetap belum masuk kak.")
        with time_machine.travel(ARRIVAL + timedelta(minutes=3), tick=False):
            out = deliver(reply.as_bytes(), "bench-ses-2")
        second = out["outcomes"][0]
        assert not second.get("created") and second["ticket_id"] == first["ticket_id"], out
        report("threaded email reply", counter.take())

        from deskintake.commands.chat_send import build_request

        def chat(text: str, message_id: str) -> dict[str, Any]:
            path, headers, body = build_request("whatsapp", text, sender="6281298765432",
                                                message_id=message_id, secrets_env=local_secrets())
            event = v2_event("POST", HttpRoute("ChatWebhookFunction", "POST", path), path, "",
                             {k.lower(): v for k, v in headers.items()}, body, {}, "203.0.113.9")
            response = functions.invoke("ChatWebhookFunction", event)
            assert response["statusCode"] == 200, response
            return json.loads(response["body"])

        with time_machine.travel(ARRIVAL + timedelta(minutes=10), tick=False):
            chat("kak saldo gopay saya kepotong 2x tapi pulsa blm masuk", "wamid.bench1")
        report("chat message, new ticket", counter.take())
        with time_machine.travel(ARRIVAL + timedelta(minutes=12), tick=False):
            chat("trx INV-230914-88213 ya kak", "wamid.bench2")
        report("chat message, threaded", counter.take())

        scheduler = setup.client("scheduler")
        group = env["DESKINTAKE_SCHEDULE_GROUP"]
        name = f"{first['ticket_id']}.order_check"
        check = scheduler.get_schedule(Name=name, GroupName=group)
        event = json.loads(check["Target"]["Input"])
        counter.take()
        with time_machine.travel(ARRIVAL + timedelta(minutes=16), tick=False):
            result = functions.invoke("FollowUpFunction", event)
        assert result["outcome"] == "acted", result
        report("follow-up run", counter.take())

        name = f"{first['ticket_id']}.first_response"
        breach = json.loads(scheduler.get_schedule(Name=name, GroupName=group)["Target"]["Input"])
        counter.take()
        due = datetime.fromisoformat(breach["due_at"])
        with time_machine.travel(due + timedelta(minutes=1), tick=False):
            result = functions.invoke("FollowUpFunction", breach)
        assert result["outcome"] == "acted", result
        report("follow-up, SLA breach", counter.take())
    return 0


if __name__ == "__main__":
    sys.exit(main())
