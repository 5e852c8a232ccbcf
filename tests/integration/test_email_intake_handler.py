"""The email function as SES invokes it, inside moto with the resources of template.yaml."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from deskintake.adapters._dynamo import from_attrs
from deskintake.inbound.ses import ses_event
from deskintake.local.functions import LocalFunctions

from tests.conftest import EXAMPLES

NOW = datetime(2026, 11, 21, 0, 31, tzinfo=UTC)


@pytest.fixture
def email_fn(moto_stack: dict[str, Any]) -> Any:
    functions = LocalFunctions(moto_stack["template"])
    return lambda event: functions.invoke("EmailIntakeFunction", event)


def deliver(stack: dict[str, Any], email_fn: Any, raw: bytes, message_id: str, **verdicts: str) -> Any:
    """What SES does: S3 action under the rule's prefix, then the Lambda action."""
    s3 = stack["client"]("s3")
    s3.put_object(Bucket=stack["env"]["DESKINTAKE_RAW_BUCKET"], Key=f"inbound/{message_id}", Body=raw)
    return email_fn(ses_event(message_id, timestamp=NOW, source="x@example.net",
                              recipients=["info@support.localhost"], **verdicts))


def items(stack: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    ddb = stack["client"]("dynamodb")
    out = []
    for page in ddb.get_paginator("scan").paginate(TableName=stack["env"]["DESKINTAKE_TABLE"]):
        out.extend(from_attrs(i) for i in page["Items"] if i["pk"]["S"].startswith(prefix))
    return out


def tickets(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in items(stack, "T#") if i["sk"] == "T"]


def test_a_chinese_gb18030_fraud_mail_becomes_an_urgent_masked_ticket(moto_stack: dict[str, Any], email_fn: Any) -> None:
    raw = (EXAMPLES / "emails" / "03-zh-card-fraud.eml").read_bytes()

    out = deliver(moto_stack, email_fn, raw, "ses0001")

    (ticket,) = tickets(moto_stack)
    assert out["outcomes"][0]["ticket_id"] == ticket["id"]
    assert (ticket["category"], ticket["priority"], ticket["lang"]) == ("card_fraud", "urgent", "zh")
    stored = json.dumps(items(moto_stack, "T#"), ensure_ascii=False)
    assert "6222 0212 3456 7894" not in stored and "6222021234567894" not in stored
    assert "622202******7894" in stored
    # One acknowledgement went out through SES, and its SES message id threads replies.
    outbound = [i for i in items(moto_stack, "T#") if i["sk"].startswith("M#") and i["direction"] == "out"]
    ((status, ack),) = [(m["delivery_status"], m["external_id"]) for m in outbound]
    assert status == "sent" and ack  # the id SES gave it
    assert items(moto_stack, f"X#email#{ack.lower()}")


def test_a_retried_ses_event_makes_no_second_ticket(moto_stack: dict[str, Any], email_fn: Any) -> None:
    raw = (EXAMPLES / "emails" / "04-en-double-charge.eml").read_bytes()

    first = deliver(moto_stack, email_fn, raw, "ses0002")
    second = deliver(moto_stack, email_fn, raw, "ses0002")
    third = deliver(moto_stack, email_fn, raw, "ses0003")  # same Message-ID, another S3 object

    assert len(tickets(moto_stack)) == 1
    assert not first["outcomes"][0]["duplicate"]
    assert second["outcomes"][0]["duplicate"] and third["outcomes"][0]["duplicate"]
    assert len([i for i in items(moto_stack, "T#") if i["sk"].startswith("M#")
                and i["direction"] == "in"]) == 1


def test_ses_disabled_verdicts_are_accepted_and_a_spam_fail_files_spam_without_ack(
    moto_stack: dict[str, Any], email_fn: Any
) -> None:
    mail = EmailMessage()
    mail["From"] = "deals@bulk.example"
    mail["To"] = "info@support.localhost"
    mail["Subject"] = "Limited offer"
    mail["Message-ID"] = "<offer-1@bulk.example>"
    mail.set_content("Hello, we have a proposal for you. Reply for details.")

    deliver(moto_stack, email_fn, bytes(mail), "ses0004", spam="FAIL", virus="DISABLED")

    (ticket,) = tickets(moto_stack)
    assert ticket["category"] == "spam" and ticket["priority"] == "none"
    assert not [i for i in items(moto_stack, "T#") if i["sk"].startswith("M#") and i["direction"] == "out"]


def test_attachments_go_to_s3_not_into_the_table(moto_stack: dict[str, Any], email_fn: Any) -> None:
    mail = EmailMessage()
    mail["From"] = "Budi <budi@mail.example.net>"
    mail["To"] = "info@support.localhost"
    mail["Subject"] = "Bukti transfer pulsa pending"
    mail["Message-ID"] = "<att-1@mail.example.net>"
    mail.set_content("Saya sudah transfer tapi status masih pending, bukti terlampir.")
    payload = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    mail.add_attachment(payload, maintype="image", subtype="png", filename="bukti transfer.png")

    deliver(moto_stack, email_fn, bytes(mail), "ses0005")

    (message,) = [i for i in items(moto_stack, "T#") if i["sk"].startswith("M#") and i["direction"] == "in"]
    (attachment,) = message["attachments"]
    assert attachment["filename"] == "bukti transfer.png" and attachment["size"] == len(payload)
    body = moto_stack["client"]("s3").get_object(Bucket=moto_stack["env"]["DESKINTAKE_RAW_BUCKET"],
                                                  Key=attachment["key"])["Body"].read()
    assert body == payload
    assert "PNG" not in json.dumps(message)


def test_unusable_mail_is_kept_with_a_failure_record_and_reprocessed_later(
    moto_stack: dict[str, Any], email_fn: Any
) -> None:
    s3 = moto_stack["client"]("s3")
    bucket = moto_stack["env"]["DESKINTAKE_RAW_BUCKET"]

    out = deliver(moto_stack, email_fn, b"", "ses0006")  # nothing to parse
    event_before_object = email_fn(ses_event("ses0007", timestamp=NOW, source="x@example.net",
                                             recipients=["info@support.localhost"]))

    assert tickets(moto_stack) == []
    failures = items(moto_stack, "F#")
    assert {f["key"] for f in failures} == {"inbound/ses0006", "inbound/ses0007"}
    assert out["outcomes"][0]["failure_id"] and event_before_object["outcomes"][0]["failure_id"]
    assert s3.get_object(Bucket=bucket, Key="inbound/ses0006")["Body"].read() == b""

    # The object arrives (or a parser fix ships); reprocessing files it exactly once.
    s3.put_object(Bucket=bucket, Key="inbound/ses0007",
                  Body=(EXAMPLES / "emails" / "01-id-order-pending.eml").read_bytes())
    from deskintake.commands import reprocess

    assert reprocess.run(_args()) == 1  # ses0006 is still unusable: reported, kept pending
    assert reprocess.run(_args()) == 1
    assert len(tickets(moto_stack)) == 1
    pending = [f for f in items(moto_stack, "F#") if f["status"] == "pending"]
    assert [f["key"] for f in pending] == ["inbound/ses0006"]


def _args() -> Any:
    import argparse

    return argparse.Namespace(failure_ids=[], list=False)


def test_a_dependency_outage_raises_so_lambda_retries(moto_stack: dict[str, Any], email_fn: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setenv("DESKINTAKE_TABLE", "NoSuchTable")
    from deskintake.runtime import wiring

    wiring.email_intake_deps.cache_clear()
    raw = (EXAMPLES / "emails" / "04-en-double-charge.eml").read_bytes()
    with pytest.raises(Exception, match="NoSuchTable|ResourceNotFound"):
        deliver(moto_stack, email_fn, raw, "ses0008")
    assert items(moto_stack, "F#") == []  # not a parse failure: the event goes to retry / DLQ


def test_the_ses_receipt_recipient_routes_a_bcc_to_its_brand(
    moto_stack: dict[str, Any], email_fn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import ROOT

    monkeypatch.setenv("DESKINTAKE_BRANDS_FILE", str(ROOT / "examples" / "brands.json"))
    mail = EmailMessage()
    mail["From"] = "lina@mail.example.com"
    mail["To"] = "info@support.localhost"  # the pulsa address is in To; kartu's got a Bcc
    mail["Subject"] = "Card limit"
    mail["Message-ID"] = "<bcc-1@mail.example.com>"
    mail.set_content("Please raise my credit card limit to 20 million.")
    moto_stack["client"]("s3").put_object(Bucket=moto_stack["env"]["DESKINTAKE_RAW_BUCKET"],
                                           Key="inbound/ses0009", Body=bytes(mail))

    email_fn(ses_event("ses0009", timestamp=NOW, source="lina@mail.example.com",
                       recipients=["info@kartu.localhost"]))

    (ticket,) = tickets(moto_stack)
    assert ticket["brand"] == "kartu"
