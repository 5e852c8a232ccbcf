"""Item conversion and error translation shared by the DynamoDB adapters."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from deskintake.domain.errors import TransientError

_ser = TypeSerializer()
_de = TypeDeserializer()

TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
})


def to_attrs(values: dict[str, Any]) -> dict[str, Any]:
    """Python values to DynamoDB attribute values (floats as Decimal, None dropped)."""
    plain = json.loads(json.dumps(values, default=str), parse_float=Decimal)
    return {k: _ser.serialize(v) for k, v in plain.items() if v is not None}


def from_attrs(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values to Python values (Decimal back to int / float)."""
    return {k: _plain(_de.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def raise_transient(exc: ClientError) -> None:
    """Throttling and server errors become TransientError so Lambda retries them."""
    if error_code(exc) in TRANSIENT_CODES:
        raise TransientError(f"DynamoDB: {error_code(exc)}") from exc


def cancellation_codes(exc: ClientError) -> list[str]:
    reasons = exc.response.get("CancellationReasons") or []
    return [str(r.get("Code") or "None") for r in reasons]


def conditional_write(write: Any, **request: Any) -> bool:
    """Run one conditional DynamoDB write: False when its condition failed, True when it took.

    Throttling and server errors become TransientError; anything else propagates.
    """
    try:
        write(**request)
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise_transient(exc)
        raise
    return True


def batch_get(db: Any, table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item of `keys` that exists, read consistently: 100 keys a request, and the keys
    DynamoDB leaves unprocessed (throttling) asked again."""
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"Keys": keys[start:start + 100], "ConsistentRead": True}}
        while request:
            response = db.batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(table, []))
            request = response.get("UnprocessedKeys") or {}
    return items
