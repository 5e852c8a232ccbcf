"""TicketRepository over one DynamoDB table (single-table design; keys in template.yaml).

    pk                      sk                      what
    T#<ticket id>           T                       the ticket (gsi1: brand#status / updated)
    T#<ticket id>           M#<time>#<hash>         a message on its thread
    T#<ticket id>           E#<time>#<kind>#<n>     a timeline event
    T#<ticket id>           C#<task>                a one-time task claimed (e.g. after_create)
    X#<channel>#<ext id>    X                       external id -> (ticket, message): dedupe + threading
    O#<channel>#<customer>  O                       the customer's open chat ticket on that channel
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from deskintake.adapters._dynamo import (
    batch_get,
    cancellation_codes,
    conditional_write,
    error_code,
    from_attrs,
    raise_transient,
    to_attrs,
)
from deskintake.domain.errors import ConflictError, DuplicateError, NotFoundError
from deskintake.domain.model import Channel
from deskintake.domain.ticket import Message, Ticket, TimelineEvent, normalize_message_id
from deskintake.ports import Lookup

_KEY_FIELDS = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "item_type")


def ticket_key(ticket_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"T#{ticket_id}"}, "sk": {"S": "T"}}


def external_key(channel: Channel | str, external_id: str) -> str:
    ext = normalize_message_id(external_id) if str(channel) == "email" else external_id
    return f"X#{channel}#{ext}"


def ticket_to_item(ticket: Ticket) -> dict[str, Any]:
    data = ticket.model_dump(mode="json")
    updated = data["updated_at"]
    return to_attrs({
        **data,
        "pk": f"T#{ticket.id}",
        "sk": "T",
        "item_type": "ticket",
        "gsi1pk": f"{ticket.brand}#{ticket.status}",
        "gsi1sk": f"{updated}#{ticket.id}",
        "gsi2pk": f"{ticket.brand}#all",
        "gsi2sk": f"{updated}#{ticket.id}",
        "search": search_text(ticket),
    })


def versioned_put(table: str, ticket: Ticket, expected_version: int) -> dict[str, Any]:
    """A PutItem of the ticket that only succeeds if nobody saved it since `expected_version`."""
    return {"TableName": table, "Item": ticket_to_item(ticket), "ConditionExpression": "#v = :v",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":v": {"N": str(expected_version)}}}


def search_text(ticket: Ticket) -> str:
    """What the agents' free-text search matches (adapters/dynamodb_queries): case-folded."""
    fields = (ticket.id, ticket.subject, ticket.preview, ticket.customer, ticket.customer_name)
    return " ".join(" ".join(f.split()) for f in fields if f).casefold()[:1200]


def ticket_from_item(item: dict[str, Any]) -> Ticket:
    data = from_attrs(item)
    return Ticket.model_validate({k: v for k, v in data.items() if k not in _KEY_FIELDS})


def message_to_item(message: Message) -> dict[str, Any]:
    return to_attrs({**message.model_dump(mode="json"), "pk": f"T#{message.ticket_id}",
                     "sk": f"M#{message.id}", "item_type": "message"})


def message_from_item(item: dict[str, Any]) -> Message:
    data = from_attrs(item)
    return Message.model_validate({k: v for k, v in data.items()
                                   if k not in _KEY_FIELDS and k != "failure"})


def event_to_item(event: TimelineEvent) -> dict[str, Any]:
    sk = f"E#{event.at.isoformat(timespec='milliseconds')}#{event.kind}#{secrets.token_hex(3)}"
    return to_attrs({**event.model_dump(mode="json"), "pk": f"T#{event.ticket_id}", "sk": sk,
                     "item_type": "event"})


class DynamoTicketRepository:
    """Tickets in DynamoDB; every multi-item change is one transaction."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    # -- writes -------------------------------------------------------------------------

    def create(self, ticket: Ticket, message: Message, *, open_key: str | None,
               events: Sequence[TimelineEvent] = (), claim: tuple[str, datetime] | None = None) -> None:
        assert message.external_id is not None
        items: list[dict[str, Any]] = [
            self._put(ticket_to_item(ticket), "attribute_not_exists(pk)"),
            self._put(self._index_item(message.channel, message.external_id, ticket.id, message.id),
                      "attribute_not_exists(pk)"),
            self._put(message_to_item(message)),
        ]
        if open_key is not None:
            items.append(self._put(to_attrs({"pk": f"O#{open_key}", "sk": "O", "item_type": "open",
                                             "ticket_id": ticket.id}), "attribute_not_exists(pk)"))
        items.extend(self._put(event_to_item(e)) for e in events)
        if claim is not None:
            items.append(self._put(_claim_item(ticket.id, claim[0], claim[1])))
        self._transact(items, duplicate_at=1)

    def append(self, ticket: Ticket, message: Message, *, expected_version: int,
               events: Sequence[TimelineEvent] = ()) -> None:
        self.append_many(ticket, [message], expected_version=expected_version, events=events)

    def append_many(self, ticket: Ticket, messages: Sequence[Message], *, expected_version: int,
                    events: Sequence[TimelineEvent] = ()) -> None:
        items = [{"Put": versioned_put(self._table, ticket, expected_version)}]
        for message in messages:
            assert message.external_id is not None
            items.append(self._put(self._index_item(message.channel, message.external_id,
                                                    ticket.id, message.id), "attribute_not_exists(pk)"))
            items.append(self._put(message_to_item(message)))
        duplicates = list(range(1, len(items), 2))
        items.extend(self._put(event_to_item(e)) for e in events)
        self._transact(items, duplicate_at=duplicates)

    def save(self, ticket: Ticket, *, expected_version: int, events: Sequence[TimelineEvent] = ()) -> None:
        # Plain writes, not a transaction: a transactional write costs twice the capacity, and
        # an event missing after a crash between the two is cosmetic (the ticket holds the fact).
        self._save_ticket(ticket, expected_version)
        for event in events:
            self.add_event(event)

    def _save_ticket(self, ticket: Ticket, expected_version: int) -> None:
        try:
            self._db.put_item(**versioned_put(self._table, ticket, expected_version))
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConflictError(f"{ticket.id} changed since version {expected_version}") from exc
            raise_transient(exc)
            raise

    def index_message_id(self, channel: Channel, external_id: str, ticket_id: str, message_id: str) -> None:
        self._db.put_item(TableName=self._table,
                          Item=self._index_item(channel, external_id, ticket_id, message_id))

    def release_open_key(self, open_key: str, ticket_id: str) -> None:
        try:
            self._db.delete_item(
                TableName=self._table, Key={"pk": {"S": f"O#{open_key}"}, "sk": {"S": "O"}},
                ConditionExpression="ticket_id = :t", ExpressionAttributeValues={":t": {"S": ticket_id}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise_transient(exc)
                raise

    def add_message(self, message: Message) -> None:
        self._db.put_item(TableName=self._table, Item=message_to_item(message))

    def update_message(self, ticket_id: str, message_id: str, **changes: Any) -> None:
        names = {f"#a{i}": k for i, k in enumerate(changes)}
        values = {f":a{i}": v for i, v in enumerate(to_attrs_keep_none(changes).values())}
        sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(changes)))
        self._db.update_item(
            TableName=self._table, Key={"pk": {"S": f"T#{ticket_id}"}, "sk": {"S": f"M#{message_id}"}},
            UpdateExpression=f"SET {sets}", ExpressionAttributeNames=names,
            ExpressionAttributeValues=values, ConditionExpression="attribute_exists(pk)",
        )

    def record_sent(self, ticket_id: str, message_id: str, channel: Channel, external_id: str) -> None:
        # The index first: a reply that arrives between the two writes still finds the ticket.
        self.index_message_id(channel, external_id, ticket_id, message_id)
        self.update_message(ticket_id, message_id, delivery_status="sent", external_id=external_id)

    def bump_repeat(self, ticket_id: str, message_id: str, external_id: str, channel: Channel) -> None:
        self._transact([
            {"Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": f"T#{ticket_id}"}, "sk": {"S": f"M#{message_id}"}},
                "UpdateExpression": "ADD repeat_count :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }},
            self._put(self._index_item(channel, external_id, ticket_id, message_id),
                      "attribute_not_exists(pk)"),
        ], duplicate_at=1)

    def add_event(self, event: TimelineEvent) -> None:
        self._db.put_item(TableName=self._table, Item=event_to_item(event))

    def record(self, ticket_id: str, *, save: tuple[Ticket, int] | None = None,
               messages: Sequence[Message] = (), indexes: Sequence[tuple[Channel, str, str]] = (),
               events: Sequence[TimelineEvent] = (), finish_claim: str | None = None) -> None:
        items: list[dict[str, Any]] = []
        if save is not None:
            items.append({"Put": versioned_put(self._table, *save)})
        items.extend(self._put(self._index_item(channel, ext, ticket_id, mid))
                     for channel, ext, mid in indexes)
        items.extend(self._put(message_to_item(m)) for m in messages)
        items.extend(self._put(event_to_item(e)) for e in events)
        if finish_claim is not None:
            items.append({"Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": f"T#{ticket_id}"}, "sk": {"S": f"C#{finish_claim}"}},
                "UpdateExpression": "SET #d = :yes", "ExpressionAttributeNames": {"#d": "done"},
                "ExpressionAttributeValues": {":yes": {"BOOL": True}},
            }})
        if not items:
            return
        if len(items) == 1 and save is None and "Put" in items[0]:
            self._db.put_item(**items[0]["Put"])  # one plain write costs half a transactional one
            return
        self._transact(items, duplicate_at=-1)

    def claim(self, ticket_id: str, task: str, *, now: datetime, stale_after_seconds: int) -> bool:
        at = int(now.timestamp())
        return conditional_write(
            self._db.put_item,
            TableName=self._table,
            Item=_claim_item(ticket_id, task, now),
            ConditionExpression="attribute_not_exists(pk) OR (#d = :no AND claimed_at < :stale)",
            ExpressionAttributeNames={"#d": "done"},
            ExpressionAttributeValues={":no": {"BOOL": False},
                                       ":stale": {"N": str(at - stale_after_seconds)}},
        )

    # -- reads --------------------------------------------------------------------------

    def get(self, ticket_id: str) -> Ticket:
        item = self._db.get_item(TableName=self._table, Key=ticket_key(ticket_id),
                                 ConsistentRead=True).get("Item")
        if not item:
            raise NotFoundError(ticket_id)
        return ticket_from_item(item)

    def messages(self, ticket_id: str) -> list[Message]:
        return [message_from_item(i) for i in self._query_prefix(f"T#{ticket_id}", "M#")]

    def events(self, ticket_id: str) -> list[TimelineEvent]:
        out = []
        for item in self._query_prefix(f"T#{ticket_id}", "E#"):
            data = from_attrs(item)
            out.append(TimelineEvent.model_validate({k: v for k, v in data.items() if k not in _KEY_FIELDS}))
        return out

    def find_message(self, channel: Channel, external_id: str) -> tuple[str, str] | None:
        item = self._db.get_item(TableName=self._table,
                                 Key={"pk": {"S": external_key(channel, external_id)}, "sk": {"S": "X"}},
                                 ConsistentRead=True).get("Item")
        if not item:
            return None
        return item["ticket_id"]["S"], item["message_id"]["S"]

    def find_messages(self, channel: Channel, external_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        wanted = {external_key(channel, e): e for e in external_ids}
        items = batch_get(self._db, self._table, [{"pk": {"S": k}, "sk": {"S": "X"}} for k in wanted])
        return {wanted[i["pk"]["S"]]: (i["ticket_id"]["S"], i["message_id"]["S"]) for i in items}

    def lookup(self, channel: Channel, external_id: str, *, open_key: str | None = None,
               reference_ids: Sequence[str] = ()) -> Lookup:
        own = external_key(channel, external_id)
        refs = list(dict.fromkeys(external_key(Channel.EMAIL, m) for m in reference_ids if m.strip()))
        pks = list(dict.fromkeys([own, *([f"O#{open_key}"] if open_key is not None else []), *refs]))[:100]
        keys = [{"pk": {"S": pk}, "sk": {"S": pk.split("#", 1)[0]}} for pk in pks]
        found = {item["pk"]["S"]: item for item in batch_get(self._db, self._table, keys)}
        seen = found.get(own)
        opened = found.get(f"O#{open_key}") if open_key is not None else None
        referenced = next((found[k]["ticket_id"]["S"] for k in refs if k in found), None)
        return Lookup(
            seen=(seen["ticket_id"]["S"], seen["message_id"]["S"]) if seen else None,
            open_ticket=opened["ticket_id"]["S"] if opened else None,
            referenced_ticket=referenced,
        )

    def open_ticket_for(self, open_key: str) -> str | None:
        item = self._db.get_item(TableName=self._table,
                                 Key={"pk": {"S": f"O#{open_key}"}, "sk": {"S": "O"}},
                                 ConsistentRead=True).get("Item")
        return item["ticket_id"]["S"] if item else None

    # -- helpers ------------------------------------------------------------------------

    def _index_item(self, channel: Channel | str, external_id: str, ticket_id: str, message_id: str) -> dict[str, Any]:
        return to_attrs({"pk": external_key(channel, external_id), "sk": "X", "item_type": "external",
                         "ticket_id": ticket_id, "message_id": message_id})

    def _put(self, item: dict[str, Any], condition: str | None = None,
             names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": item}
        if condition:
            put["ConditionExpression"] = condition
        if names:
            put["ExpressionAttributeNames"] = names
        if values:
            put["ExpressionAttributeValues"] = values
        return {"Put": put}

    def _transact(self, items: list[dict[str, Any]], *, duplicate_at: int | list[int]) -> None:
        """One transaction; a failed condition at a `duplicate_at` position (a message index
        item) is a DuplicateError, any other a ConflictError."""
        at = [duplicate_at] if isinstance(duplicate_at, int) else duplicate_at
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise_transient(exc)
                raise
            codes = cancellation_codes(exc)
            if any(0 <= i < len(codes) and codes[i] == "ConditionalCheckFailed" for i in at):
                raise DuplicateError("message already stored") from exc
            if "ConditionalCheckFailed" in codes:
                raise ConflictError("concurrent change") from exc
            raise_transient(exc)
            raise ConflictError(f"transaction cancelled: {codes}") from exc

    def _query_prefix(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":p": {"S": prefix}},
            "ConsistentRead": True,
        }
        while True:
            response = self._db.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def to_attrs_keep_none(values: dict[str, Any]) -> dict[str, Any]:
    """Like to_attrs, but a None becomes DynamoDB NULL so an update can clear a field."""
    converted = to_attrs(values)
    return {k: converted.get(k, {"NULL": True}) for k in values}




def _claim_item(ticket_id: str, task: str, at: datetime) -> dict[str, Any]:
    return to_attrs({"pk": f"T#{ticket_id}", "sk": f"C#{task}", "item_type": "claim",
                     "claimed_at": int(at.timestamp()), "done": False})
