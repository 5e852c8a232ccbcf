"""FollowUpStore in the tickets table: one bookkeeping item per ticket, beside the ticket.

    pk              sk   what
    T#<ticket id>   F    follow-up state: `state` (JSON: scheduled kinds, waiting periods),
                         `done` (string set of occurrence keys, claimed atomically), `version`

`done` is written only by claim/release (ADD / DELETE on the set), and `state` only by save
(a version check), so a claim never conflicts with a re-plan running at the same time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from deskintake.adapters._dynamo import conditional_write, error_code, raise_transient
from deskintake.adapters.dynamodb_tickets import ticket_from_item
from deskintake.domain.errors import ConflictError
from deskintake.domain.follow_up_policy import FollowUpState
from deskintake.domain.ticket import Ticket

_SK = "F"
_OPEN_STATUSES = ("open", "waiting")


class DynamoFollowUpStore:
    """Follow-up bookkeeping and the sweep's worklist over the single tickets table."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def _key(self, ticket_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"T#{ticket_id}"}, "sk": {"S": _SK}}

    def load(self, ticket_id: str) -> FollowUpState:
        item = self._db.get_item(TableName=self._table, Key=self._key(ticket_id),
                                 ConsistentRead=True).get("Item")
        if not item:
            return FollowUpState(ticket_id=ticket_id)
        data = json.loads(item["state"]["S"]) if "state" in item else {}
        data.update(ticket_id=ticket_id, version=int(item.get("version", {}).get("N", "0")),
                    done=item.get("done", {}).get("SS", []))
        return FollowUpState.model_validate(data)

    def save(self, state: FollowUpState, *, expected_version: int) -> None:
        body = state.model_dump(mode="json", exclude={"done", "version", "ticket_id"})
        try:
            self._db.update_item(
                TableName=self._table, Key=self._key(state.ticket_id),
                UpdateExpression="SET #s = :s, #v = :new, #k = :kind",
                ConditionExpression="attribute_not_exists(#v) OR #v = :old",
                ExpressionAttributeNames={"#s": "state", "#v": "version", "#k": "item_type"},
                ExpressionAttributeValues={":s": {"S": json.dumps(body, sort_keys=True)},
                                           ":new": {"N": str(expected_version + 1)},
                                           ":old": {"N": str(expected_version)},
                                           ":kind": {"S": "follow_ups"}},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConflictError(f"follow-ups of {state.ticket_id} changed") from exc
            raise_transient(exc)
            raise

    def claim(self, ticket_id: str, key: str) -> bool:
        return conditional_write(
            self._db.update_item,
            TableName=self._table, Key=self._key(ticket_id),
            UpdateExpression="ADD #d :k SET #k = :kind",
            ConditionExpression="attribute_not_exists(#d) OR NOT contains(#d, :key)",
            ExpressionAttributeNames={"#d": "done", "#k": "item_type"},
            ExpressionAttributeValues={":k": {"SS": [key]}, ":key": {"S": key},
                                       ":kind": {"S": "follow_ups"}},
        )

    def release(self, ticket_id: str, key: str) -> None:
        self._db.update_item(
            TableName=self._table, Key=self._key(ticket_id),
            UpdateExpression="DELETE #d :k", ExpressionAttributeNames={"#d": "done"},
            ExpressionAttributeValues={":k": {"SS": [key]}},
        )

    def open_tickets(self, brand: str) -> Iterator[Ticket]:
        for status in _OPEN_STATUSES:
            kwargs: dict[str, Any] = {
                "TableName": self._table, "IndexName": "ByStatus",
                "KeyConditionExpression": "gsi1pk = :p",
                "ExpressionAttributeValues": {":p": {"S": f"{brand}#{status}"}},
            }
            while True:
                page = self._db.query(**kwargs)
                for item in page.get("Items", []):
                    yield ticket_from_item(item)
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
