"""FollowUpStore in the tickets table: one bookkeeping item per ticket, beside the ticket.

    pk              sk   what
    T#<ticket id>   F    follow-up state: `state` (JSON: scheduled kinds, waiting periods),
                         `done` (string set of occurrence keys, claimed atomically), `version`

`done` is written by claim/release (ADD / DELETE on the set) and `state` by save (a version
check), so a plain claim never conflicts with a re-plan running at the same time. `commit`
writes both at once, with the ticket and timeline events, in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from deskintake.adapters._dynamo import (
    batch_get,
    cancellation_codes,
    conditional_write,
    error_code,
    raise_transient,
)
from deskintake.adapters.dynamodb_tickets import (
    event_to_item,
    ticket_from_item,
    ticket_key,
    versioned_put,
)
from deskintake.domain.errors import ConflictError, NotFoundError
from deskintake.domain.follow_up_policy import FollowUpState
from deskintake.domain.ticket import Ticket, TimelineEvent

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
        return _state_from_item(ticket_id, item)

    def load_with_ticket(self, ticket_id: str) -> tuple[Ticket, FollowUpState]:
        # Both items share the partition: one consistent BatchGetItem instead of two GetItems.
        wanted = [ticket_key(ticket_id), self._key(ticket_id)]
        found = {item["sk"]["S"]: item for item in batch_get(self._db, self._table, wanted)}
        if "T" not in found:
            raise NotFoundError(ticket_id)
        return ticket_from_item(found["T"]), _state_from_item(ticket_id, found.get(_SK))

    def save(self, state: FollowUpState, *, expected_version: int) -> None:
        self._write_state(state, "attribute_not_exists(#v) OR #v = :old", expected_version)

    def create(self, state: FollowUpState) -> None:
        self._write_state(state, "attribute_not_exists(pk)", 0)

    def _write_state(self, state: FollowUpState, condition: str, expected_version: int) -> None:
        update = self._state_update(state, expected_version)
        if ":old" not in condition:
            del update["ExpressionAttributeValues"][":old"]
        try:
            self._db.update_item(TableName=self._table, ConditionExpression=condition, **update)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConflictError(f"follow-ups of {state.ticket_id} changed") from exc
            raise_transient(exc)
            raise

    def _state_update(self, state: FollowUpState, expected_version: int) -> dict[str, Any]:
        body = state.model_dump(mode="json", exclude={"done", "version", "ticket_id"})
        return {
            "Key": self._key(state.ticket_id),
            "UpdateExpression": "SET #s = :s, #v = :new, #k = :kind",
            "ExpressionAttributeNames": {"#s": "state", "#v": "version", "#k": "item_type"},
            "ExpressionAttributeValues": {":s": {"S": json.dumps(body, sort_keys=True)},
                                          ":new": {"N": str(expected_version + 1)},
                                          ":old": {"N": str(expected_version)},
                                          ":kind": {"S": "follow_ups"}},
        }

    def commit(self, ticket_id: str, *, claim: str | None = None,
               state: FollowUpState | None = None, expected_version: int = 0,
               ticket: tuple[Ticket, int] | None = None,
               events: Sequence[TimelineEvent] = ()) -> bool:
        bookkeeping = self._bookkeeping(ticket_id, claim, state, expected_version)
        items: list[dict[str, Any]] = []
        if bookkeeping is not None:
            items.append({"Update": bookkeeping})
        if ticket is not None:
            items.append({"Put": versioned_put(self._table, *ticket)})
        items.extend({"Put": {"TableName": self._table, "Item": event_to_item(e)}} for e in events)
        if not items:
            return True
        try:
            if len(items) == 1:
                # One item: a plain write, at half a transactional write's capacity.
                if bookkeeping is not None:
                    self._db.update_item(**bookkeeping)
                else:
                    self._db.put_item(**items[0]["Put"])
            else:
                self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            code = error_code(exc)
            if code == "ConditionalCheckFailedException":
                return self._unclaimed(ticket_id, claim, exc.response.get("Item"))
            if code != "TransactionCanceledException":
                raise_transient(exc)
                raise
            reasons = exc.response.get("CancellationReasons") or []
            first = reasons[0] if reasons else {}
            if bookkeeping is not None and first.get("Code") == "ConditionalCheckFailed":
                return self._unclaimed(ticket_id, claim, first.get("Item"))
            # The ticket's version check failed, or a concurrent transaction touched an item:
            # nothing was written, the caller reads again and decides again.
            raise ConflictError(f"{ticket_id} changed: {cancellation_codes(exc)}") from exc
        return True

    @staticmethod
    def _unclaimed(ticket_id: str, claim: str | None, old: dict[str, Any] | None) -> bool:
        """After a failed check of the follow-up item: False if `claim` was taken already."""
        if claim is not None and claim in (old or {}).get("done", {}).get("SS", []):
            return False
        raise ConflictError(f"follow-ups of {ticket_id} changed")

    def _bookkeeping(self, ticket_id: str, claim: str | None, state: FollowUpState | None,
                     expected_version: int) -> dict[str, Any] | None:
        """One update of the follow-up item: claim `claim` and/or save `state`, both checked."""
        if claim is None and state is None:
            return None
        sets, conditions = ["#k = :kind"], []
        names: dict[str, str] = {"#k": "item_type"}
        values: dict[str, Any] = {":kind": {"S": "follow_ups"}}
        adds = ""
        if state is not None:
            update = self._state_update(state, expected_version)
            names.update(update["ExpressionAttributeNames"])
            values.update(update["ExpressionAttributeValues"])
            sets += ["#s = :s", "#v = :new"]
            conditions.append("(attribute_not_exists(#v) OR #v = :old)")
        if claim is not None:
            names["#d"] = "done"
            values.update({":k": {"SS": [claim]}, ":key": {"S": claim}})
            adds = "ADD #d :k "
            conditions.append("(attribute_not_exists(#d) OR NOT contains(#d, :key))")
        return {
            "TableName": self._table, "Key": self._key(ticket_id),
            "UpdateExpression": f"{adds}SET {', '.join(dict.fromkeys(sets))}",
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

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


def _state_from_item(ticket_id: str, item: dict[str, Any] | None) -> FollowUpState:
    if not item:
        return FollowUpState(ticket_id=ticket_id)
    data = json.loads(item["state"]["S"]) if "state" in item else {}
    data.update(ticket_id=ticket_id, version=int(item.get("version", {}).get("N", "0")),
                done=item.get("done", {}).get("SS", []))
    return FollowUpState.model_validate(data)
