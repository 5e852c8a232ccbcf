"""EventPublisher over an EventBridge custom bus (source `deskintake`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

SOURCE = "deskintake"


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._events = client
        self._bus = bus_name

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.publish_many([(detail_type, detail)])

    def publish_many(self, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
        entries = [{"Source": SOURCE, "DetailType": kind, "EventBusName": self._bus,
                    "Detail": json.dumps(detail, default=str)} for kind, detail in events]
        kinds = [kind for kind, _ in events]
        for start in range(0, len(entries), 10):  # PutEvents takes at most 10 entries
            try:
                response = self._events.put_events(Entries=entries[start:start + 10])
            except ClientError as exc:
                # Events are notifications for other teams; a failed publish must not fail intake.
                log.warning("event publish failed", extra={
                    "detail_types": kinds, "error": exc.response.get("Error", {}).get("Code")})
                return
            if response.get("FailedEntryCount"):
                log.warning("event publish rejected", extra={"detail_types": kinds})


class RecordingPublisher:
    """Keeps events in memory (tests, and the local stack's event log)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.events.append((detail_type, detail))

    def publish_many(self, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
        self.events.extend(events)
