"""FollowUpScheduler over EventBridge Scheduler: one-time `at()` schedules in our own group.

Each (ticket, kind) has one schedule named `<ticket id>.<kind>`, so it can be found, replaced
and cancelled without a lookup. Schedules delete themselves after firing
(ActionAfterCompletion DELETE), retry a few times and then go to a dead-letter queue. The
follow-up function re-reads the ticket, so a late, early or duplicate fire does no harm.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError

from deskintake.domain.errors import TransientError

__all__ = ["EventBridgeFollowUpScheduler", "at_expression", "parse_at", "schedule_name"]

_NAME = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
_UNSAFE = re.compile(r"[^0-9A-Za-z_.-]+")
_AT = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")


def schedule_name(ticket_id: str, kind: str) -> str:
    """`<ticket id>.<kind>`, within Scheduler's 64 characters of [0-9a-zA-Z-_.]."""
    name = f"{_UNSAFE.sub('_', ticket_id)}.{_UNSAFE.sub('_', kind)}"
    if len(name) > 64:  # never for TKT-XXXXXXX ids; keeps odd ids unique all the same
        digest = hashlib.sha256(f"{ticket_id}\0{kind}".encode()).hexdigest()[:16]
        name = f"{name[:47]}.{digest}"
    if not _NAME.match(name):
        raise ValueError(f"cannot make a schedule name from {ticket_id!r} / {kind!r}")
    return name


def ticket_prefix(ticket_id: str) -> str:
    return f"{_UNSAFE.sub('_', ticket_id)}."


def at_expression(when: datetime, timezone: str) -> str:
    """`at(yyyy-mm-ddThh:mm:ss)` in `timezone`, checked (moto accepts malformed ones)."""
    if when.tzinfo is None:
        raise ValueError("a follow-up time must carry its time zone")
    local = when.astimezone(ZoneInfo(timezone))
    expression = f"at({local:%Y-%m-%dT%H:%M:%S})"
    parse_at(expression, timezone)
    return expression


def parse_at(expression: str, timezone: str) -> datetime:
    """The instant an `at()` expression names in `timezone` (ValueError when malformed)."""
    match = _AT.match(expression.strip())
    if not match:
        raise ValueError(f"not a one-time schedule expression: {expression!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    if not 1970 <= year <= 2199:
        raise ValueError(f"year out of range in {expression!r}")
    local = datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class EventBridgeFollowUpScheduler:
    """Schedules follow-ups as one-time EventBridge Scheduler schedules that invoke a Lambda."""

    def __init__(
        self,
        client: Any,
        *,
        group: str,
        target_arn: str,
        role_arn: str,
        dead_letter_arn: str | None = None,
        timezone: str = "Asia/Jakarta",
        max_retries: int = 3,
        max_event_age_seconds: int = 3600,
    ) -> None:
        if not 0 <= max_retries <= 185 or not 60 <= max_event_age_seconds <= 86400:
            raise ValueError("retry policy outside Scheduler's limits")
        ZoneInfo(timezone)
        self._client = client
        self.group = group
        self._target_arn = target_arn
        self._role_arn = role_arn
        self._dlq = dead_letter_arn
        self.timezone = timezone
        self._retry = {"MaximumRetryAttempts": max_retries,
                       "MaximumEventAgeInSeconds": max_event_age_seconds}

    def _request(self, name: str, fire_at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
        target: dict[str, Any] = {
            "Arn": self._target_arn,
            "RoleArn": self._role_arn,
            "Input": json.dumps(payload, default=str, sort_keys=True),
            "RetryPolicy": dict(self._retry),
        }
        if self._dlq:
            target["DeadLetterConfig"] = {"Arn": self._dlq}
        return {
            "Name": name,
            "GroupName": self.group,
            "ScheduleExpression": at_expression(fire_at, self.timezone),
            "ScheduleExpressionTimezone": self.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            # services.follow_up relies on this: a follow-up its schedule ran is not cancelled.
            "ActionAfterCompletion": "DELETE",
            "State": "ENABLED",
            "Description": f"deskintake follow-up {payload.get('kind', '')} for "
                           f"{payload.get('ticket_id', '')}"[:512],
            "Target": target,
        }

    def schedule(self, ticket_id: str, kind: str, *, fire_at: datetime,
                 payload: dict[str, Any]) -> str:
        name = schedule_name(ticket_id, kind)
        request = self._request(name, fire_at, payload)
        try:
            try:
                self._client.create_schedule(**request)
            except ClientError as exc:
                if _code(exc) != "ConflictException":
                    raise
                # UpdateSchedule is a full replace: the same request moves it.
                try:
                    self._client.update_schedule(**request)
                except ClientError as again:
                    if _code(again) != "ResourceNotFoundException":
                        raise
                    self._client.create_schedule(**request)  # it fired in between
        except (ClientError, BotoCoreError) as exc:
            raise TransientError(f"scheduling {name} failed: {exc}") from exc
        return name

    def cancel(self, ticket_id: str, kind: str) -> None:
        name = schedule_name(ticket_id, kind)
        try:
            self._client.delete_schedule(Name=name, GroupName=self.group)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return  # already fired (and deleted itself) or never created
            raise TransientError(f"cancelling {name} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise TransientError(f"cancelling {name} failed: {exc}") from exc

    def get(self, ticket_id: str, kind: str) -> dict[str, Any] | None:
        return self.get_by_name(schedule_name(ticket_id, kind))

    def get_by_name(self, name: str) -> dict[str, Any] | None:
        try:
            found = self._client.get_schedule(Name=name, GroupName=self.group)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return None
            raise TransientError(f"reading {name} failed: {exc}") from exc
        zone = found.get("ScheduleExpressionTimezone") or "UTC"
        target = found.get("Target") or {}
        try:
            payload = json.loads(target.get("Input") or "{}")
        except ValueError:
            payload = {}
        return {"name": name, "fire_at": parse_at(found["ScheduleExpression"], zone),
                "payload": payload, "target_arn": target.get("Arn"),
                "action_after_completion": found.get("ActionAfterCompletion")}

    def names(self) -> Iterator[str]:
        """Every schedule name in the group (for the local clock and the `followups` command)."""
        kwargs: dict[str, Any] = {"GroupName": self.group}
        while True:
            page = self._client.list_schedules(**kwargs)
            for summary in page.get("Schedules", []):
                if summary.get("GroupName", self.group) == self.group:
                    yield str(summary["Name"])
            if not page.get("NextToken"):
                return
            kwargs["NextToken"] = page["NextToken"]

    def delete_by_name(self, name: str) -> None:
        try:
            self._client.delete_schedule(Name=name, GroupName=self.group)
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
