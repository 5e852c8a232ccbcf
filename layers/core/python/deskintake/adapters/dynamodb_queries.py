"""Ticket listings for agents from the table's indexes (never a Scan): filters, search, counts.

A listing is one DynamoDB Query on an index partition, newest first:

    ByStatus  gsi1pk = "<brand>#<status>"   one status (the inbox tabs)
    ByBrand   gsi2pk = "<brand>#all"        every status

Filters (category, priority, channel, language, assignee, needs-triage, SLA, free text) are a
FilterExpression on that Query. DynamoDB applies `Limit` before the filter, so a filtered page
may need several Query calls; each call is bounded and the walk stops at a read budget, handing
back a cursor so the caller can go on ("search further"). Free-text search is therefore a
filtered walk of the partition: cost grows with the number of tickets in the status partition
(about 1 MB of index data per call), not with the number of matches.

Cursors are the Query's LastEvaluatedKey (or the key of the last ticket returned), as base64
JSON, tagged with the index so a cursor cannot be replayed against another listing.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from deskintake.adapters._dynamo import from_attrs, raise_transient, to_attrs
from deskintake.adapters.dynamodb_tickets import ticket_from_item
from deskintake.domain.model import Category, TicketStatus
from deskintake.domain.ticket import Ticket
from deskintake.services.tickets import UNASSIGNED, SlaWindow, TicketPage, TicketQuery

STATUS_INDEX = ("ByStatus", "gsi1pk", "gsi1sk")
BRAND_INDEX = ("ByBrand", "gsi2pk", "gsi2sk")
MAX_LIMIT = 100
READ_BUDGET_ITEMS = 4000  # items one listing request may read through before it hands back a cursor


OPEN_LIKE = frozenset({TicketStatus.OPEN, TicketStatus.WAITING})


class InvalidCursorError(ValueError):
    """The cursor was not issued for this listing (or was altered)."""


@dataclass
class _Filter:
    parts: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def add(self, expression: str, names: dict[str, str], values: dict[str, Any]) -> None:
        self.parts.append(expression)
        self.names.update(names)
        self.values.update(values)


class DynamoTicketQueries:
    """Listings and counts for the agents' API, over the ticket table's indexes."""

    def __init__(self, client: Any, table_name: str, *, counts_ttl_seconds: float = 10.0) -> None:
        self._db = client
        self._table = table_name
        self._counts_ttl = counts_ttl_seconds
        self._counts_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    # -- listing ------------------------------------------------------------------------

    def list(self, query: TicketQuery) -> TicketPage:
        index, pk_attr, sk_attr = STATUS_INDEX if query.status is not None else BRAND_INDEX
        pk_value = f"{query.brand}#{query.status}" if query.status is not None else f"{query.brand}#all"
        limit = max(1, min(query.limit, MAX_LIMIT))
        flt = _filters(query)
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": pk_attr, **flt.names},
            "ExpressionAttributeValues": {":pk": {"S": pk_value}, **to_attrs(flt.values)},
            "ScanIndexForward": query.oldest_first,
        }
        if flt.parts:
            kwargs["FilterExpression"] = " AND ".join(f"({p})" for p in flt.parts)
        start = decode_cursor(query.cursor, index) if query.cursor else None
        tickets: list[Ticket] = []
        read = calls = 0
        key_names = ("pk", "sk", pk_attr, sk_attr)
        while True:
            if start is not None:
                kwargs["ExclusiveStartKey"] = start
            # Unfiltered: ask for exactly what is missing. Filtered: read in growing bites
            # (Limit counts items evaluated before the filter), so a rare filter costs a few
            # round trips rather than dozens.
            kwargs["Limit"] = (limit - len(tickets)) if not flt.parts else min(1000, max(100, limit * 4) * 4 ** calls)
            response = self._query(kwargs)
            calls += 1
            read += int(response.get("ScannedCount", 0))
            items = response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            for position, item in enumerate(items):
                tickets.append(ticket_from_item(item))
                if len(tickets) == limit:
                    more_here = position < len(items) - 1
                    if more_here:
                        cursor_key = {k: item[k] for k in key_names if k in item}
                        return TicketPage(tickets, encode_cursor(cursor_key, index), read, calls)
                    return TicketPage(tickets, encode_cursor(last, index) if last else None, read, calls)
            if not last:
                return TicketPage(tickets, None, read, calls)
            start = last
            if read >= READ_BUDGET_ITEMS:
                return TicketPage(tickets, encode_cursor(last, index), read, calls, partial=True)

    # -- counts -------------------------------------------------------------------------

    def counts(self, brand: str = "default", *, since: str | None = None) -> dict[str, Any]:
        """Tickets per status, and per category among the open and waiting ones.

        Open and waiting tickets are counted in full; resolved and closed ones only when they
        changed after `since` (an ISO time), so the cost follows the live workload, not the
        whole history. Counting reads index partitions (Select=COUNT / a two-attribute
        projection), so results are cached briefly (the done-pile longer): every dashboard
        polls them.
        """
        live = self._cached(f"{brand}#live", self._counts_ttl, lambda: self._live_counts(brand))
        done = self._cached(f"{brand}#done#{(since or '')[:15]}", self._counts_ttl * 6, lambda: {
            str(s): self._count_status(brand, s, since) for s in TicketStatus if s not in OPEN_LIKE})
        return {"by_status": {**live["by_status"], **done}, "by_category": live["by_category"],
                "needs_triage": live["needs_triage"], "closed_since": since}

    def forget_counts(self, brand: str = "default") -> None:
        """Drop cached counts after a change made through this process."""
        with self._lock:
            for key in [k for k in self._counts_cache if k.startswith(f"{brand}#")]:
                del self._counts_cache[key]

    def _live_counts(self, brand: str) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        by_category: Counter[str] = Counter()
        triage = 0
        for status in (TicketStatus.OPEN, TicketStatus.WAITING):
            # One pass over a live partition gives its count and its categories.
            n = 0
            for item in self._project(brand, status, "category, needs_triage"):
                data = from_attrs(item)
                category = str(data.get("category", ""))
                by_category[category] += 1
                n += category != Category.SPAM  # the status tabs count what the inbox shows
                triage += 1 if data.get("needs_triage") and status == TicketStatus.OPEN else 0
            by_status[str(status)] = n
        return {"by_status": by_status, "by_category": dict(by_category), "needs_triage": triage}

    def _cached(self, key: str, ttl: float, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            hit = self._counts_cache.get(key)
            if hit and time.monotonic() - hit[0] < ttl:
                return hit[1]
        value = compute()
        with self._lock:
            self._counts_cache[key] = (time.monotonic(), value)
        return value

    def _count_status(self, brand: str, status: TicketStatus, since: str | None) -> int:
        total = 0
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": STATUS_INDEX[0], "Select": "COUNT",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"{brand}#{status}"}},
        }
        if since is not None:
            kwargs["KeyConditionExpression"] += " AND gsi1sk >= :since"
            kwargs["ExpressionAttributeValues"][":since"] = {"S": since}
        kwargs["FilterExpression"] = "category <> :spam"
        kwargs["ExpressionAttributeValues"][":spam"] = {"S": str(Category.SPAM)}
        while True:
            response = self._query(kwargs)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                return total
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _project(self, brand: str, status: TicketStatus, projection: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": STATUS_INDEX[0],
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"{brand}#{status}"}},
            "ProjectionExpression": projection,
        }
        while True:
            response = self._query(kwargs)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _query(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self._db.query(**kwargs)
        except ClientError as exc:
            raise_transient(exc)
            raise
        return response


def _filters(query: TicketQuery) -> _Filter:
    flt = _Filter()
    for attr, value in (("category", query.category), ("priority", query.priority),
                        ("channel", query.channel), ("lang", query.lang)):
        if value:
            flt.add(f"#{attr} = :{attr}", {f"#{attr}": attr}, {f":{attr}": str(value)})
    if query.category is None and not query.include_spam:
        flt.add("#category <> :spam", {"#category": "category"}, {":spam": str(Category.SPAM)})
    if query.assignee == UNASSIGNED:
        flt.add("attribute_not_exists(#assignee)", {"#assignee": "assignee"}, {})
    elif query.assignee:
        flt.add("#assignee = :assignee", {"#assignee": "assignee"}, {":assignee": query.assignee})
    if query.needs_triage is not None:
        flt.add("#triage = :triage", {"#triage": "needs_triage"}, {":triage": query.needs_triage})
    if query.sla in {"breached", "due_soon"} and query.sla_windows:
        flt.add(*_sla_filter(query.sla, query.sla_windows))
    if query.text and (needle := " ".join(query.text.split()).casefold()):
        flt.add("contains(#search, :text)", {"#search": "search"}, {":text": needle})
    return flt


def _sla_filter(kind: str, windows: Sequence[SlaWindow]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Open tickets with no first response whose target has passed (or passes soon)."""
    names = {"#st": "status", "#fr": "first_response_at", "#pr": "priority", "#ca": "created_at"}
    values: dict[str, Any] = {":open": str(TicketStatus.OPEN)}
    ors = []
    for n, window in enumerate(windows):
        values[f":sp{n}"] = window.priority
        values[f":sb{n}"] = window.breached_before
        scope = ""
        if window.categories:
            names["#cat"] = "category"
            listed = []
            for m, category in enumerate(window.categories):
                values[f":sc{n}_{m}"] = category
                listed.append(f":sc{n}_{m}")
            scope = f" AND {'NOT ' if window.other_categories else ''}(#cat IN ({', '.join(listed)}))"
        if kind == "breached":
            ors.append(f"(#pr = :sp{n}{scope} AND #ca < :sb{n})")
        else:
            values[f":ss{n}"] = window.due_soon_before
            ors.append(f"(#pr = :sp{n}{scope} AND #ca >= :sb{n} AND #ca < :ss{n})")
    expression = f"#st = :open AND attribute_not_exists(#fr) AND ({' OR '.join(ors)})"
    return expression, names, values


def encode_cursor(key: dict[str, Any], index: str) -> str:
    raw = json.dumps({"i": index, "k": key}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, index: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursorError("cursor is not valid") from exc
    if not isinstance(data, dict):
        raise InvalidCursorError("cursor is not valid")
    key = data.get("k")
    if data.get("i") != index or not isinstance(key, dict) or not key:
        raise InvalidCursorError("cursor belongs to another listing")
    for name, value in key.items():
        if name not in {"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"} or not (
                isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)):
            raise InvalidCursorError("cursor is not valid")
    return dict(key)


# -- category corrections (kept for retraining) -------------------------------------------


class DynamoCorrections:
    """Agents' category corrections, one partition per brand, oldest first."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def record(self, correction: dict[str, Any]) -> None:
        brand = correction.get("brand", "default")
        sk = f"{correction['at']}#{correction['ticket_id']}"
        self._db.put_item(TableName=self._table, Item=to_attrs({
            **correction, "pk": f"C#{brand}", "sk": sk, "item_type": "correction"}))

    def all(self, brand: str = "default") -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"C#{brand}"}},
        }
        while True:
            response = self._db.query(**kwargs)
            for item in response.get("Items", []):
                data = from_attrs(item)
                yield {k: v for k, v in data.items() if k not in {"pk", "sk", "item_type"}}
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
