"""Rate limits and the failure log, in the tickets table.

    pk                      sk      what
    R#<key>#<window start>  R       a counter that expires (TTL on expires_at)
    F#<failure id>          F       an inbound payload that failed (gsi1: failures#pending)
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from deskintake.adapters._dynamo import conditional_write, from_attrs, to_attrs


class DynamoRateLimiter:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def allow(self, key: str, *, limit: int, window_seconds: int, now: datetime) -> bool:
        start = int(now.timestamp()) // window_seconds * window_seconds
        return conditional_write(
            self._db.update_item,
            TableName=self._table,
            Key={"pk": {"S": f"R#{key}#{start}"}, "sk": {"S": "R"}},
            UpdateExpression="ADD #c :one SET expires_at = :exp",
            ConditionExpression="attribute_not_exists(#c) OR #c < :limit",
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)},
                                       ":exp": {"N": str(start + 2 * window_seconds)}},
        )


class DynamoFailureLog:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def record(self, *, source: str, key: str, reason: str, at: datetime) -> str:
        failure_id = f"{at.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
        self._db.put_item(TableName=self._table, Item=to_attrs({
            "pk": f"F#{failure_id}", "sk": "F", "item_type": "failure", "id": failure_id,
            "source": source, "key": key, "reason": reason[:2000], "at": at.isoformat(),
            "status": "pending", "gsi1pk": "failures#pending", "gsi1sk": f"{at.isoformat()}#{failure_id}",
        }))
        return failure_id

    def pending(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": "ByStatus",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "failures#pending"}},
        }
        while True:
            response = self._db.query(**kwargs)
            items.extend(from_attrs(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def resolve(self, failure_id: str, *, at: datetime, ticket_id: str | None) -> None:
        self._db.update_item(
            TableName=self._table, Key={"pk": {"S": f"F#{failure_id}"}, "sk": {"S": "F"}},
            UpdateExpression="SET #s = :s, resolved_at = :at, ticket_id = :t REMOVE gsi1pk, gsi1sk",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "reprocessed"}, ":at": {"S": at.isoformat()},
                                       ":t": {"S": ticket_id or ""}},
        )
