"""The SES receipt event, as real SES sends it (wider than Powertools' SesModel)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Real SES sends DISABLED when a scan is off; Powertools' model rejects it (see research notes).
Verdict = str


class SesVerdict(BaseModel):
    status: Verdict = "DISABLED"


class SesAction(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = "Lambda"
    invocationType: str | None = None  # noqa: N815 - SES field name
    functionArn: str | None = None  # noqa: N815


class SesReceipt(BaseModel):
    model_config = ConfigDict(extra="allow")

    recipients: list[str] = Field(default_factory=list)
    spamVerdict: SesVerdict = Field(default_factory=SesVerdict)  # noqa: N815
    virusVerdict: SesVerdict = Field(default_factory=SesVerdict)  # noqa: N815
    spfVerdict: SesVerdict = Field(default_factory=SesVerdict)  # noqa: N815
    dkimVerdict: SesVerdict = Field(default_factory=SesVerdict)  # noqa: N815
    dmarcVerdict: SesVerdict = Field(default_factory=SesVerdict)  # noqa: N815
    action: SesAction = Field(default_factory=SesAction)


class SesMail(BaseModel):
    model_config = ConfigDict(extra="allow")

    messageId: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._\-]+$")  # noqa: N815
    timestamp: datetime
    source: str = ""
    destination: list[str] = Field(default_factory=list)


class SesPayload(BaseModel):
    mail: SesMail
    receipt: SesReceipt = Field(default_factory=SesReceipt)


class SesRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    eventSource: str = "aws:ses"  # noqa: N815
    ses: SesPayload


class SesEvent(BaseModel):
    Records: list[SesRecord] = Field(min_length=1)  # noqa: N815


def ses_event(message_id: str, *, timestamp: datetime, source: str, recipients: list[str],
              spam: str = "PASS", virus: str = "PASS") -> dict[str, Any]:
    """The event SES's Lambda action sends after its S3 action stored the mail."""
    verdict = {"status": "PASS"}
    return {"Records": [{
        "eventSource": "aws:ses",
        "eventVersion": "1.0",
        "ses": {
            "mail": {
                "timestamp": timestamp.isoformat().replace("+00:00", "Z"),
                "source": source,
                "messageId": message_id,
                "destination": recipients,
                "headersTruncated": False,
                "headers": [],
                "commonHeaders": {},
            },
            "receipt": {
                "timestamp": timestamp.isoformat().replace("+00:00", "Z"),
                "processingTimeMillis": 1,
                "recipients": recipients,
                "spamVerdict": {"status": spam},
                "virusVerdict": {"status": virus},
                "spfVerdict": verdict,
                "dkimVerdict": verdict,
                "dmarcVerdict": verdict,
                "action": {"type": "Lambda", "invocationType": "Event",
                           "functionArn": "arn:aws:lambda:local:000000000000:function:EmailIntake"},
            },
        },
    }]}
