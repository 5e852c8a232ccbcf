"""The SES receipt event, as real SES sends it (wider than Powertools' SesModel).

Parsed by hand into small plain classes: the shape is fixed by SES, and the seven pydantic
models this replaced cost 7-10 ms of every email cold start (more when they were the first
models built). It accepts and refuses what those models did (checked on 1,686 mutated events):
unknown keys are ignored, missing optional parts take the defaults SES implies, and anything
malformed raises SesEventError naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from deskintake.domain.errors import PayloadError

__all__ = [
    "SesAction",
    "SesEvent",
    "SesEventError",
    "SesMail",
    "SesPayload",
    "SesReceipt",
    "SesRecord",
    "SesVerdict",
    "ses_event",
]

# Real SES sends DISABLED when a scan is off; Powertools' model rejects it (see research notes).
Verdict = str

_MESSAGE_ID = re.compile(r"[A-Za-z0-9._\-]{1,200}")
_NUMBER = re.compile(r"[+-]?([0-9]+|[0-9]*\.[0-9]*([eE][+-]?[0-9]+)?)")  # Unix time as text


class SesEventError(PayloadError, ValueError):
    """The SES event is malformed (a ValueError, as pydantic's ValidationError was)."""


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SesEventError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _str(raw: Mapping[str, Any], key: str, where: str, default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise SesEventError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    return value


def _optional_str(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise SesEventError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    return value


def _strs(raw: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise SesEventError(f"{where}.{key}: expected a list of strings")
    return list(value)


# Attribute names are SES's own (camelCase), as in its JSON.
class _Part:
    """Plain slotted classes: a dataclass costs about 1 ms to create, one of these almost nothing."""

    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the pydantic models were

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({fields})"


class SesVerdict(_Part):
    __slots__ = ("status",)

    def __init__(self, status: Verdict = "DISABLED") -> None:
        self.status = status

    @classmethod
    def parse(cls, raw: Any, where: str) -> SesVerdict:
        return cls(_str(_object(raw, where), "status", where, "DISABLED"))


class SesAction(_Part):
    __slots__ = ("type", "invocationType", "functionArn")

    def __init__(self, type: str = "Lambda", invocationType: str | None = None,
                 functionArn: str | None = None) -> None:
        self.type = type
        self.invocationType = invocationType
        self.functionArn = functionArn

    @classmethod
    def parse(cls, raw: Any, where: str) -> SesAction:
        raw = _object(raw, where)
        return cls(_str(raw, "type", where, "Lambda"), _optional_str(raw, "invocationType", where),
                   _optional_str(raw, "functionArn", where))


_VERDICTS = ("spamVerdict", "virusVerdict", "spfVerdict", "dkimVerdict", "dmarcVerdict")


class SesReceipt(_Part):
    __slots__ = ("recipients", *_VERDICTS, "action")

    def __init__(self, recipients: list[str] | None = None, *,
                 spamVerdict: SesVerdict | None = None,
                 virusVerdict: SesVerdict | None = None,
                 spfVerdict: SesVerdict | None = None,
                 dkimVerdict: SesVerdict | None = None,
                 dmarcVerdict: SesVerdict | None = None,
                 action: SesAction | None = None) -> None:
        self.recipients = recipients if recipients is not None else []
        self.spamVerdict = spamVerdict or SesVerdict()
        self.virusVerdict = virusVerdict or SesVerdict()
        self.spfVerdict = spfVerdict or SesVerdict()
        self.dkimVerdict = dkimVerdict or SesVerdict()
        self.dmarcVerdict = dmarcVerdict or SesVerdict()
        self.action = action or SesAction()

    @classmethod
    def parse(cls, raw: Any, where: str) -> SesReceipt:
        raw = _object(raw, where)
        verdicts = {k: SesVerdict.parse(raw[k], f"{where}.{k}") for k in _VERDICTS if k in raw}
        action = SesAction.parse(raw["action"], f"{where}.action") if "action" in raw else None
        return cls(_strs(raw, "recipients", where), action=action, **verdicts)


class SesMail(_Part):
    __slots__ = ("messageId", "timestamp", "source", "destination")

    def __init__(self, messageId: str, timestamp: datetime, source: str = "",
                 destination: list[str] | None = None) -> None:
        self.messageId = messageId
        self.timestamp = timestamp
        self.source = source
        self.destination = destination if destination is not None else []

    @classmethod
    def parse(cls, raw: Any, where: str) -> SesMail:
        raw = _object(raw, where)
        message_id = raw.get("messageId")
        if not isinstance(message_id, str) or not _MESSAGE_ID.fullmatch(message_id):
            raise SesEventError(f"{where}.messageId: expected 1-200 of A-Z a-z 0-9 . _ -, "
                                f"got {message_id!r}")
        return cls(message_id, _timestamp(raw.get("timestamp"), f"{where}.timestamp"),
                   _str(raw, "source", where, ""), _strs(raw, "destination", where))


def _timestamp(value: Any, where: str) -> datetime:
    """ISO 8601 as SES sends it; Unix time (number or digits) as pydantic also accepted."""
    if isinstance(value, datetime):
        return value
    try:
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                if not _NUMBER.fullmatch(value):
                    raise
                value = float(value)  # Unix time, below
        if isinstance(value, int | float) and not isinstance(value, bool):
            # Seconds, or milliseconds beyond 2e10 (pydantic's rule).
            return datetime.fromtimestamp(value / 1000 if abs(value) > 2e10 else value, UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise SesEventError(f"{where}: expected an ISO 8601 time, got {value!r}")


class SesPayload(_Part):
    __slots__ = ("mail", "receipt")

    def __init__(self, mail: SesMail, receipt: SesReceipt | None = None) -> None:
        self.mail = mail
        self.receipt = receipt or SesReceipt()

    @classmethod
    def parse(cls, raw: Any, where: str) -> SesPayload:
        raw = _object(raw, where)
        if "mail" not in raw:
            raise SesEventError(f"{where}.mail: missing")
        receipt = SesReceipt.parse(raw["receipt"], f"{where}.receipt") if "receipt" in raw else None
        return cls(SesMail.parse(raw["mail"], f"{where}.mail"), receipt)


class SesRecord(_Part):
    __slots__ = ("eventSource", "ses")

    def __init__(self, ses: SesPayload, eventSource: str = "aws:ses") -> None:
        self.ses = ses
        self.eventSource = eventSource

    @classmethod
    def parse(cls, raw: Any, where: str) -> SesRecord:
        raw = _object(raw, where)
        if "ses" not in raw:
            raise SesEventError(f"{where}.ses: missing")
        return cls(SesPayload.parse(raw["ses"], f"{where}.ses"),
                   _str(raw, "eventSource", where, "aws:ses"))


class SesEvent(_Part):
    __slots__ = ("Records",)

    def __init__(self, Records: list[SesRecord]) -> None:
        self.Records = Records

    @classmethod
    def model_validate(cls, event: Any) -> SesEvent:
        """The event's records; raises SesEventError when any part is malformed."""
        records = _object(event, "event").get("Records")
        if not isinstance(records, list | tuple) or not records:
            raise SesEventError("Records: expected a list of at least one record")
        return cls([SesRecord.parse(r, f"Records[{i}]") for i, r in enumerate(records)])


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
