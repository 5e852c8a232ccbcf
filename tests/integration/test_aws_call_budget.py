"""What a message costs in AWS requests: the real functions in moto, every request counted.

Each request is a round trip in Lambda time and a line on the bill, so these budgets are the
figures of PERFORMANCE.md ("AWS calls per message") held in place: a change that adds a read
or splits a write fails here, not in the next cost review.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from botocore.client import BaseClient
from deskintake.adapters._dynamo import from_attrs
from deskintake.commands.chat_send import build_request
from deskintake.inbound.ses import ses_event
from deskintake.local.functions import LocalFunctions

from tests.chat_support import SECRETS, call
from tests.conftest import EXAMPLES

ARRIVAL = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 WIB on a Monday


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every AWS request any client makes, as "service:Operation", in order."""
    seen: list[str] = []
    original = BaseClient._make_api_call

    def counted(client: BaseClient, operation: str, params: Any) -> Any:
        seen.append(f"{client.meta.service_model.service_name}:{operation}")
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    yield seen


def _mail(stack: dict[str, Any], functions: LocalFunctions, raw: bytes, key: str) -> dict[str, Any]:
    stack["client"]("s3").put_object(Bucket=stack["env"]["DESKINTAKE_RAW_BUCKET"],
                                     Key=f"inbound/{key}", Body=raw)
    return functions.invoke("EmailIntakeFunction", ses_event(
        key, timestamp=ARRIVAL, source="budi@example.net", recipients=["info@support.localhost"]))


def test_a_new_mail_and_a_reply_to_its_acknowledgement_cost_their_budget(
    moto_stack: dict[str, Any], requests: list[str]
) -> None:
    functions = LocalFunctions(moto_stack["template"])
    raw = (EXAMPLES / "emails" / "01-id-order-pending.eml").read_bytes()
    with time_machine.travel(ARRIVAL, tick=False):
        requests.clear()
        first = _mail(moto_stack, functions, raw, "ses-budget-1")["outcomes"][0]
        new_ticket = Counter(r for r in requests if r != "s3:PutObject")

    # Read the mail, store the ticket in one transaction, announce it in one request, send the
    # acknowledgement and store its outcome in one transaction; one timer per planned follow-up;
    # the acknowledgement rate counter and the follow-up plan are one write each.
    schedules = new_ticket.pop("scheduler:CreateSchedule", 0)
    assert first["created"] and schedules >= 1
    assert new_ticket == Counter({"s3:GetObject": 1, "dynamodb:TransactWriteItems": 2,
                                  "events:PutEvents": 1, "ses:SendRawEmail": 1,
                                  "dynamodb:UpdateItem": 2})

    (ack,) = [i["external_id"] for i in map(from_attrs, moto_stack["client"]("dynamodb").query(
        TableName=moto_stack["env"]["DESKINTAKE_TABLE"], KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"T#{first['ticket_id']}"}})["Items"])
        if i.get("direction") == "out"]
    reply = EmailMessage()
    reply["From"] = "Budi <budi@example.net>"
    reply["To"] = "info@support.localhost"
    reply["Subject"] = "Re: pulsa belum masuk"
    reply["Message-ID"] = "<budget-reply-1@example.net>"
    reply["In-Reply-To"] = f"<{ack}>"
    reply.set_content("Sudah saya cek lagi, pulsanya tetap belum masuk kak.")
    with time_machine.travel(ARRIVAL + timedelta(minutes=3), tick=False):
        requests.clear()
        second = _mail(moto_stack, functions, reply.as_bytes(), "ses-budget-2")["outcomes"][0]
        threaded = [r for r in requests if r != "s3:PutObject"]

    assert second["ticket_id"] == first["ticket_id"] and not second["created"]
    # The duplicate check and the reference lookup are one BatchGetItem; no Query, no Scan.
    assert Counter(threaded)["dynamodb:BatchGetItem"] == 1
    assert not [r for r in threaded if r.endswith(("Query", "Scan"))]
    assert len(threaded) <= 6, threaded


def test_a_chat_customer_writing_again_costs_no_thread_read(
    chat_handler: Any, requests: list[str]
) -> None:
    def send(text: str, message_id: str, at: datetime) -> dict[str, Any]:
        path, headers, body = build_request("whatsapp", text, sender="6281298765432",
                                            message_id=message_id, secrets_env=SECRETS)
        with time_machine.travel(at, tick=False):
            status, answer = call(chat_handler, "POST", path, body=body, headers=headers)
        assert status == 200, answer
        return dict(answer["tickets"][0])

    first = send("kak saldo gopay saya kepotong 2x tapi pulsa blm masuk", "wamid.budget1", ARRIVAL)
    requests.clear()
    again = send("kak saldo gopay saya kepotong 2x  tapi pulsa blm masuk", "wamid.budget2",
                 ARRIVAL + timedelta(seconds=20))
    repeat = list(requests)
    requests.clear()
    more = send("trx INV-230914-88213 ya kak", "wamid.budget3", ARRIVAL + timedelta(minutes=2))
    threaded = list(requests)

    assert again["ticket_id"] == more["ticket_id"] == first["ticket_id"]
    assert again["repeated"] and not more["repeated"]
    # The repeat is recognised from the ticket itself: the thread is never read.
    for made in (repeat, threaded):
        assert not [r for r in made if r.endswith(("Query", "Scan"))], made
        assert Counter(made)["dynamodb:BatchGetItem"] == 1, made
    assert len(threaded) <= 6, threaded


def test_a_burst_in_one_delivery_costs_about_one_message_not_five(
    chat_handler: Any, requests: list[str]
) -> None:
    import json

    from deskintake.inbound.signatures import whatsapp_signature

    sender = "6281311112222"
    texts = ["saldo saya kepotong", "tapi pulsa belum masuk", "trx INV-230914-88213", "sudah 1 jam",
             "tolong dicek ya"]
    sent = int(ARRIVAL.timestamp()) - 10
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"phone_number_id": "99"},
            "contacts": [{"profile": {"name": "Rina"}, "wa_id": sender}],
            "messages": [{"from": sender, "id": f"wamid.burst{i}", "timestamp": str(sent + i),
                          "type": "text", "text": {"body": t}} for i, t in enumerate(texts)]}}]}]}).encode()
    headers = {"X-Hub-Signature-256": whatsapp_signature(body, SECRETS["DESKINTAKE_WHATSAPP_APP_SECRET"])}

    with time_machine.travel(ARRIVAL, tick=False):
        status, answer = call(chat_handler, "POST", "/webhooks/whatsapp", body=body, headers=headers)
    burst = [r for r in requests if not r.startswith(("ssm:", "sts:"))]

    assert status == 200, answer
    assert len({t["ticket_id"] for t in answer["tickets"]}) == 1 and len(answer["tickets"]) == 5
    # The first message opens the ticket as a lone one would; the other four cost one read of
    # their duplicate checks, one transaction, one event and the follow-up re-plan.
    assert Counter(burst)["dynamodb:TransactWriteItems"] == 3, burst
    assert Counter(burst)["events:PutEvents"] == 2, burst
    assert len(burst) <= 14, burst
