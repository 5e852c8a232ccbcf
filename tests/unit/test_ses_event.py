"""The SES receipt event: what the email function reads from it, defaults, and malformed events."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from deskintake.domain.errors import InboundRejectedError
from deskintake.inbound.ses import SesEvent, SesEventError, ses_event

NOW = datetime(2026, 11, 21, 3, 4, 5, 123000, tzinfo=UTC)


def event(**changes: Any) -> dict[str, Any]:
    base = ses_event("0f1e2d3c.4b5a-6978_a", timestamp=NOW, source="budi@mail.example.net",
                     recipients=["help@support.example.com"], spam="FAIL", virus="PASS")
    return base | changes


def test_the_fields_the_email_function_uses() -> None:
    (record,) = SesEvent.model_validate(event()).Records
    mail, receipt = record.ses.mail, record.ses.receipt
    assert mail.messageId == "0f1e2d3c.4b5a-6978_a"
    assert mail.timestamp == NOW and mail.timestamp.utcoffset() == timedelta(0)
    assert mail.source == "budi@mail.example.net"
    assert receipt.recipients == ["help@support.example.com"]
    assert (receipt.spamVerdict.status, receipt.virusVerdict.status) == ("FAIL", "PASS")
    assert receipt.action.type == "Lambda" and receipt.action.invocationType == "Event"
    assert record.eventSource == "aws:ses"


def test_a_real_ses_timestamp_and_several_records() -> None:
    doc = event()
    doc["Records"][0]["ses"]["mail"]["timestamp"] = "2026-11-21T03:04:05.123Z"
    second = copy.deepcopy(doc["Records"][0])
    second["ses"]["mail"]["messageId"] = "second"
    doc["Records"].append(second)
    parsed = SesEvent.model_validate(doc)
    assert [r.ses.mail.messageId for r in parsed.Records] == ["0f1e2d3c.4b5a-6978_a", "second"]
    assert parsed.Records[0].ses.mail.timestamp == NOW


def test_scans_that_are_off_or_absent_read_as_disabled() -> None:
    doc = event()
    receipt = doc["Records"][0]["ses"]["receipt"]
    receipt["virusVerdict"] = {"status": "DISABLED"}
    del receipt["spamVerdict"], receipt["action"]
    parsed = SesEvent.model_validate(doc).Records[0].ses.receipt
    assert (parsed.spamVerdict.status, parsed.virusVerdict.status) == ("DISABLED", "DISABLED")
    assert parsed.action.type == "Lambda"
    del doc["Records"][0]["ses"]["receipt"]
    bare = SesEvent.model_validate(doc).Records[0].ses.receipt
    assert bare.recipients == [] and bare.dmarcVerdict.status == "DISABLED"


def _set(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = event()
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


MAIL = ("Records", 0, "ses", "mail")


@pytest.mark.parametrize(
    ("doc", "names"),
    [
        ({}, "Records"),
        ({"Records": []}, "Records"),
        ({"Records": [None]}, "Records[0]"),
        (_set(("Records", 0, "ses"), KeyError), "Records[0].ses"),
        (_set(("Records", 0, "ses", "mail"), KeyError), "Records[0].ses.mail"),
        (_set((*MAIL, "messageId"), KeyError), "messageId"),
        (_set((*MAIL, "messageId"), "../../etc/passwd"), "messageId"),  # names the S3 object
        (_set((*MAIL, "messageId"), "x" * 201), "messageId"),
        (_set((*MAIL, "timestamp"), "yesterday"), "timestamp"),
        (_set((*MAIL, "timestamp"), KeyError), "timestamp"),
        (_set((*MAIL, "destination"), "help@support.example.com"), "destination"),
        (_set(("Records", 0, "ses", "receipt", "recipients"), [1]), "recipients"),
        (_set(("Records", 0, "ses", "receipt", "spamVerdict"), {"status": None}), "spamVerdict"),
        (_set(("Records", 0, "ses", "receipt", "action"), "Lambda"), "action"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field(doc: Any, names: str) -> None:
    with pytest.raises(SesEventError, match=names.replace("[", r"\[").replace("]", r"\]")) as err:
        SesEvent.model_validate(doc)
    # Still a ValueError, as pydantic's ValidationError was; and a permanent inbound rejection.
    assert isinstance(err.value, ValueError) and isinstance(err.value, InboundRejectedError)


@pytest.mark.parametrize("value", [1700000000, "1700000000", 1700000000000, "1700000000000.0"])
def test_unix_times_read_as_pydantic_read_them(value: object) -> None:
    # Seconds, or milliseconds beyond 2e10, as number or text: what the pydantic model accepted.
    doc = _set((*MAIL, "timestamp"), value)
    stamp = SesEvent.model_validate(doc).Records[0].ses.mail.timestamp
    assert stamp == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
