"""The local stack's clock: fires due EventBridge schedules, which moto stores but never fires.

Every few seconds it lists the follow-up group's schedules, invokes the follow-up function
with each due schedule's Target.Input (as Scheduler would), then deletes the schedule
(ActionAfterCompletion DELETE). A failed invocation goes to the dead-letter queue. On start
it runs a verifying sweep (moto forgets schedules across restarts, the tickets table does
not), then a sweep every 15 minutes like the template's rule.
`deskintake followups due|run --at` use the same code to look or jump ahead in time.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deskintake.adapters.eventbridge_scheduler import EventBridgeFollowUpScheduler

log = logging.getLogger(__name__)

FOLLOW_UP_CODE_URI = "functions/follow_up"


@dataclass(frozen=True)
class DueSchedule:
    name: str
    fire_at: datetime
    payload: dict[str, Any]


def follow_up_function(template: Any) -> str:
    """The logical id of the function whose code is functions/follow_up/."""
    for name, resource in template.of_type("AWS::Serverless::Function").items():
        code = str((resource.get("Properties") or {}).get("CodeUri", "")).rstrip("/")
        if code == FOLLOW_UP_CODE_URI:
            return str(name)
    return "FollowUpFunction"


class ScheduleFirer:
    """Lists and fires the schedules of one group against an invoke function."""

    def __init__(self, scheduler_client: Any, group: str, invoke: Callable[[dict[str, Any]], Any],
                 *, sqs: Any = None, dead_letter_url: str | None = None) -> None:
        # Only the listing and reading side of the adapter is used: target and role are unused.
        self._schedules = EventBridgeFollowUpScheduler(scheduler_client, group=group, target_arn="",
                                                       role_arn="")
        self._client = scheduler_client
        self._group = group
        self._invoke = invoke
        self._sqs = sqs
        self._dlq = dead_letter_url

    def pending(self) -> list[DueSchedule]:
        out = []
        for name in self._schedules.names():
            found = self._schedules.get_by_name(name)
            if found is not None:
                out.append(DueSchedule(name, found["fire_at"], found["payload"]))
        return sorted(out, key=lambda s: (s.fire_at, s.name))

    def due(self, by: datetime) -> list[DueSchedule]:
        return [s for s in self.pending() if s.fire_at <= by]

    def fire(self, by: datetime, *, jump_from: datetime | None = None) -> list[tuple[DueSchedule, Any]]:
        """Invoke and delete every schedule due by `by`.

        With `jump_from` (the real time) the clock jumps ahead: each schedule runs as if at its
        own fire time (or at `jump_from` when it is already overdue), passed as the event's `now`.
        """
        fired = []
        for schedule in self.due(by):
            event = dict(schedule.payload)
            if jump_from is not None:
                event["now"] = max(schedule.fire_at, jump_from).isoformat()
            try:
                result = self._invoke(event)
            except Exception as exc:  # noqa: BLE001 - like Scheduler: dead-letter it, carry on
                log.warning("follow-up %s failed: %s", schedule.name, exc)
                result = {"outcome": "failed", "error": f"{type(exc).__name__}: {exc}"}
                self._dead_letter(schedule, str(exc))
            self._delete_if_unchanged(schedule)
            fired.append((schedule, result))
        return fired

    def _delete_if_unchanged(self, schedule: DueSchedule) -> None:
        # The function may have moved this follow-up (same name, new time): keep that one.
        current = self._schedules.get_by_name(schedule.name)
        if current is not None and (current["fire_at"], current["payload"]) == (
                schedule.fire_at, schedule.payload):
            self._schedules.delete_by_name(schedule.name)

    def _dead_letter(self, schedule: DueSchedule, error: str) -> None:
        if self._sqs is None or not self._dlq:
            return
        import json

        self._sqs.send_message(QueueUrl=self._dlq, MessageBody=json.dumps(
            {"schedule": schedule.name, "input": schedule.payload, "error": error[:1000]}))


def firer_for(stack: Any) -> ScheduleFirer:
    """A ScheduleFirer over a running LocalStack."""
    env = stack.environment()
    logical_id = follow_up_function(stack.template)
    sqs = stack.aws.client("sqs")
    try:
        dlq_url = sqs.get_queue_url(QueueName="FollowUpDeadLetterQueue")["QueueUrl"]
    except Exception:  # noqa: BLE001 - no DLQ in this template: failures are only logged
        dlq_url = None
    return ScheduleFirer(stack.aws.client("scheduler"), env["DESKINTAKE_SCHEDULE_GROUP"],
                         lambda event: stack.functions.invoke(logical_id, event),
                         sqs=sqs, dead_letter_url=dlq_url)


class LocalClock:
    """A thread that fires due schedules every few seconds (DESKINTAKE_CLOCK_SECONDS, 5)."""

    def __init__(self, stack: Any, *, interval: float | None = None,
                 sweep_every: float | None = None) -> None:
        self.stack = stack
        self.interval = interval or float(os.environ.get("DESKINTAKE_CLOCK_SECONDS", "5"))
        # the template's sweep rule runs every 15 minutes; so does the local one
        self.sweep_every = sweep_every or float(os.environ.get("DESKINTAKE_SWEEP_SECONDS", "900"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._firer: ScheduleFirer | None = None
        self.fired = 0

    def start(self) -> None:
        if "DESKINTAKE_SCHEDULE_GROUP" not in self.stack.environment():
            log.info("no follow-up schedule group in template.yaml: the clock stays off")
            return
        self._firer = firer_for(self.stack)
        self._thread = threading.Thread(target=self._run, name="local-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        self._sweep(verify=True)
        last_sweep = time.monotonic()
        while not self._stop.wait(self.interval):
            self.tick(datetime.now(UTC))
            if time.monotonic() - last_sweep >= self.sweep_every:
                self._sweep(verify=False)
                last_sweep = time.monotonic()

    def _sweep(self, *, verify: bool) -> None:
        logical_id = follow_up_function(self.stack.template)
        try:
            self.stack.functions.invoke(logical_id, {"action": "sweep", "verify": verify})
        except Exception:  # noqa: BLE001 - the clock keeps running; the next tick may work
            log.exception("local sweep failed")

    def tick(self, now: datetime) -> int:
        assert self._firer is not None
        try:
            fired = self._firer.fire(now)
        except Exception:  # noqa: BLE001 - never let the clock thread die
            log.exception("local clock tick failed")
            return 0
        self.fired += len(fired)
        return len(fired)
