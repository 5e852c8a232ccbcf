"""On the local stack: a pending-order mail over SMTP gets its status check, and jumping 16
minutes ahead with `deskintake followups run --at +16m` records the check on the timeline."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from deskintake.local.stack import send_raw

pytestmark = pytest.mark.e2e

WIB = ZoneInfo("Asia/Jakarta")


def pending_order_mail(message_id: str, paid_at: datetime) -> bytes:
    paid = paid_at.astimezone(WIB).strftime("%H.%M")
    return (
        "From: Budi Santoso <budi.santoso@mail.example.net>\r\n"
        "To: info@support.localhost\r\n"
        "Subject: Pulsa belum masuk, status masih pending\r\n"
        f"Message-ID: <{message_id}>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "MIME-Version: 1.0\r\n\r\n"
        f"Selamat siang Kak, saya sudah bayar pulsa Telkomsel 100rb jam {paid} tadi pakai DANA,\r\n"
        "tapi statusnya masih pending sampai sekarang. Order INV-20261121-88412. Mohon dicek.\r\n"
    ).encode()


def ticket_of(stack: Any, message_id: str, timeout: float = 30) -> str:
    ddb = stack.aws.client("dynamodb")
    table = stack.info["env"]["DESKINTAKE_TABLE"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = ddb.get_item(TableName=table, Key={"pk": {"S": f"X#email#{message_id.lower()}"},
                                                  "sk": {"S": "X"}}).get("Item")
        if item:
            return str(item["ticket_id"]["S"])
        time.sleep(0.3)
    raise AssertionError(f"no ticket for {message_id}")


def show(stack: Any, ticket_id: str) -> dict[str, Any]:
    out = stack.cli("followups", "show", ticket_id, "--json")
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def test_pending_order_check_is_scheduled_and_fires_sixteen_minutes_later(local_stack: Any) -> None:
    # Paid this minute (Jakarta time), so the check is 15 minutes ahead: the clock leaves it alone.
    message_id = f"fu-e2e-{uuid.uuid4().hex[:12]}@mail.example.net"
    sent_at = datetime.now(UTC)
    send_raw(pending_order_mail(message_id, sent_at), host=local_stack.config.host,
             port=local_stack.config.smtp_port)
    ticket_id = ticket_of(local_stack, message_id)

    detail = show(local_stack, ticket_id)
    assert detail["category"] == "order_pending"
    scheduled = {s["kind"]: datetime.fromisoformat(s["due_at"]) for s in detail["scheduled"]}
    assert "order_check" in scheduled and "order_operator_check" in scheduled
    paid_minute = sent_at.replace(second=0, microsecond=0)
    assert scheduled["order_check"] == paid_minute + timedelta(minutes=15)
    assert not [e for e in detail["timeline"] if e["kind"] == "follow_up"]

    due = local_stack.cli("followups", "due", "--at", "+16m", "--ticket", ticket_id, "--json")
    assert due.returncode == 0, due.stderr
    assert [row["kind"] for row in json.loads(due.stdout)] == ["order_check"]

    ran = local_stack.cli("followups", "run", "--at", "+16m", "--ticket", ticket_id, "--json")
    assert ran.returncode == 0, ran.stderr
    assert [(r["kind"], r["result"]["outcome"]) for r in json.loads(ran.stdout)] == [
        ("order_check", "acted")]

    after = show(local_stack, ticket_id)
    assert [e["follow_up"] for e in after["timeline"] if e["kind"] == "follow_up"] == ["order_check"]
    assert {s["kind"] for s in after["scheduled"]} == {"first_response", "order_operator_check"}
    # fired once: running the same jump again finds nothing left to do
    again = local_stack.cli("followups", "run", "--at", "+16m", "--ticket", ticket_id, "--json")
    assert json.loads(again.stdout) == []
