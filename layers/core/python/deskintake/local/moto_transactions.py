"""TransactWriteItems for the local moto server without a copy of the whole table per item.

moto 5 backs up a transaction by `copy.deepcopy` of every table it touches, once for each item
in the request, so a six-item transaction on a table of 1,000 tickets copies 6,000 tickets'
worth of items, and local throughput falls as the table grows (PERFORMANCE.md measured the
copies at 27 of 31 s of a profile). This version backs up only the items the transaction
touches and puts them back if it is cancelled. Everything else is moto's own logic, in
moto's order: keys, the one-operation-per-item check, conditions against the current item,
then the write; a failed condition cancels the whole transaction with one reason per item.

The local server answers one request at a time (local/aws.py), so no other write can land
between the backup and the restore. Installed by the local stack only; tests that run moto
in-process keep moto's original, and tests/integration/test_local_moto_transactions.py runs
one set of transactions through both and compares the outcomes.
"""

from __future__ import annotations

import copy
from typing import Any

_installed: Any = None


def install() -> None:
    """Replace moto's DynamoDBBackend.transact_write_items (idempotent)."""
    global _installed
    from moto.dynamodb.models import DynamoDBBackend

    if _installed is None:
        _installed = DynamoDBBackend.transact_write_items
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def uninstall() -> None:
    """Put moto's original back (for tests)."""
    global _installed
    from moto.dynamodb.models import DynamoDBBackend

    if _installed is not None:
        DynamoDBBackend.transact_write_items = _installed  # type: ignore[method-assign]
        _installed = None


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:  # noqa: C901
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    backups: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []

    def rollback() -> None:
        for table_name, key, attrs in reversed(backups):
            if attrs is not None:
                self.put_item(table_name, attrs)
            elif self.get_item(table_name, key) is not None:
                self.delete_item(table_name, key)

    targets: set[tuple[str, str]] = set()
    errors: list[tuple[Any, Any, Any]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            condition = op.get("ConditionExpression")
            if op_type == "Put":
                table = self.get_table(table_name)
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            target = (str(table_name), str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)

            current = self.get_item(table_name, key)
            if condition is not None and not get_filter_expression(condition, names, values).expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original_item = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                backups.append((table_name, key,
                                copy.deepcopy(current.to_json()["Attributes"]) if current else None))
            if op_type == "Put":
                self.put_item(table_name, op["Item"], condition_expression=condition,
                              expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, condition_expression=condition,
                                 expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 condition_expression=condition,
                                 expression_attribute_names=names, expression_attribute_values=values)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original_item))
        except Exception as exc:  # noqa: BLE001 - moto reports any other failure per item, too
            errors.append((type(exc).__name__, str(exc), original_item))

    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)
