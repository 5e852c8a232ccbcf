"""The local stack's TransactWriteItems (deskintake.local.moto_transactions) against moto's own.

The same transactions run through both in-process; every answer and the table after each must
be the same, and the facts a caller relies on (all or nothing, one reason per item) are
asserted outright so the test fails if both went wrong the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from deskintake.local import moto_transactions
from moto import mock_aws

TABLE = "T"


def _put(pk: str, sk: str, condition: str | None = None, **attrs: str) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": sk},
                                                        **{k: {"S": v} for k, v in attrs.items()}}}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def _update(pk: str, sk: str, expression: str, values: dict[str, Any],
            condition: str | None = None) -> dict[str, Any]:
    update: dict[str, Any] = {"TableName": TABLE, "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                              "UpdateExpression": expression, "ExpressionAttributeValues": values}
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


SCRIPT: list[list[dict[str, Any]]] = [
    # Everything succeeds: two new items, an update of a seeded one, a delete.
    [_put("T#1", "T", "attribute_not_exists(pk)", status="open"), _put("X#a", "X", ticket="1"),
     _update("T#0", "T", "SET #s = :s", {":s": {"S": "closed"}}),
     {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "T#9"}, "sk": {"S": "T"}}}}],
    # A duplicate index item in the middle: nothing of it may land, not even the first put.
    [_put("T#2", "T", "attribute_not_exists(pk)", status="open"),
     _put("X#a", "X", "attribute_not_exists(pk)", ticket="2"),
     _update("T#1", "T", "SET n = :n", {":n": {"S": "new"}}),
     _update("T#3", "T", "SET n = :n", {":n": {"S": "created by update"}})],
    # A stale version check on an existing item among writes.
    [_update("T#1", "T", "SET v = :v", {":v": {"S": "2"}}, "v = :old"),
     _put("M#1", "M", msg="hello")],
    # A condition check that holds, and one that does not.
    [{"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "T#1"}, "sk": {"S": "T"}},
                         "ConditionExpression": "attribute_exists(pk)"}}, _put("M#2", "M", msg="ok")],
    [{"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "T#404"}, "sk": {"S": "T"}},
                         "ConditionExpression": "attribute_exists(pk)"}}, _put("M#3", "M", msg="no")],
    # The same item twice is refused outright.
    [_put("M#4", "M", msg="a"), _put("M#4", "M", msg="b")],
]
SCRIPT[1][0]["Put"]["Item"]["why"] = {"S": "must vanish"}
SCRIPT[2][0]["Update"]["ExpressionAttributeValues"][":old"] = {"S": "1"}
SCRIPT[0][2]["Update"]["ExpressionAttributeNames"] = {"#s": "status"}


def _run(local: bool) -> list[Any]:
    if local:
        moto_transactions.install()
    try:
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name="ap-southeast-1", aws_access_key_id="x",
                               aws_secret_access_key="x")
            ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "sk", "KeyType": "RANGE"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                   {"AttributeName": "sk", "AttributeType": "S"}])
            for pk in ("T#0", "T#9"):
                ddb.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": "T"}, "v": {"S": "1"}})
            trace: list[Any] = []
            for transaction in SCRIPT:
                try:
                    ddb.transact_write_items(TransactItems=transaction)
                    answer: Any = "ok"
                except ClientError as exc:
                    reasons = exc.response.get("CancellationReasons") or []
                    answer = (exc.response["Error"]["Code"], [r.get("Code") for r in reasons])
                items = ddb.scan(TableName=TABLE)["Items"]
                trace.append((answer, sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))))
            return trace
    finally:
        if local:
            moto_transactions.uninstall()


@pytest.fixture(scope="module")
def traces() -> Iterator[tuple[list[Any], list[Any]]]:
    yield _run(local=False), _run(local=True)


def test_every_answer_and_table_state_matches_moto(traces: tuple[list[Any], list[Any]]) -> None:
    stock, local = traces
    assert local == stock


def test_a_cancelled_transaction_leaves_nothing_behind(traces: tuple[list[Any], list[Any]]) -> None:
    _, local = traces
    keys = [{(i["pk"]["S"], i["sk"]["S"]) for i in items} for _, items in local]
    (ok, after_first), (cancelled, after_second) = local[0], local[1]
    assert ok == "ok" and ("T#9", "T") not in keys[0] and {("T#1", "T"), ("X#a", "X")} <= keys[0]
    assert cancelled == ("TransactionCanceledException",
                         ["None", "ConditionalCheckFailed", "None", "None"])
    assert after_second == after_first  # the put, the update and the upsert were all undone
    assert local[2][0] == ("TransactionCanceledException", ["ConditionalCheckFailed", "None"])
    assert local[3][0] == "ok" and ("M#2", "M") in keys[3]
    assert local[4][0][1] == ["ConditionalCheckFailed", "None"] and ("M#3", "M") not in keys[4]
    assert local[5][0][0] == "ValidationException" and ("M#4", "M") not in keys[5]
    assert moto_transactions._installed is None  # the test put moto's own back
