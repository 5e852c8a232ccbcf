"""EventPublisher over an EventBridge custom bus (source `deskintake`)."""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

SOURCE = "deskintake"


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._events = client
        self._bus = bus_name

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {"Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail, default=str),
                 "EventBusName": self._bus}
        try:
            response = self._events.put_events(Entries=[entry])
        except ClientError as exc:
            # Events are notifications for other teams; a failed publish must not fail intake.
            log.warning("event publish failed", extra={"detail_type": detail_type,
                                                       "error": exc.response.get("Error", {}).get("Code")})
            return
        if response.get("FailedEntryCount"):
            log.warning("event publish rejected", extra={"detail_type": detail_type})


class RecordingPublisher:
    """Keeps events in memory (tests, and the local stack's event log)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.events.append((detail_type, detail))
