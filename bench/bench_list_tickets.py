"""Agents' ticket listings with 10,000 tickets in the local stack: index queries, never a scan.

Starts a local stack (moto server, gateway) on its own ports with a temporary state folder,
writes 10,000 tickets straight through the repository's item mapping (BatchWriteItem), then
times listings against baselines measured in the same run:

  adapter level   DynamoTicketQueries.list vs one GetItem of a ticket, same boto3 client
  HTTP level      GET /api/tickets?... through the gateway vs GET /api/tickets/{id}

Every DynamoDB call is counted per operation with a botocore event hook; the run fails if any
listing issues a Scan. Numbers are for moto on this machine: its query walks the index
partition in Python, so absolute times say little about DynamoDB; the ratios and the call
counts (what DynamoDB would bill and how it scales) are the point.

    .venv/bin/python bench/bench_list_tickets.py [--tickets 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))

from deskintake.adapters.dynamodb_queries import DynamoTicketQueries  # noqa: E402
from deskintake.adapters.dynamodb_tickets import ticket_key, ticket_to_item  # noqa: E402
from deskintake.domain.model import Category, Channel, Lang, Priority, TicketStatus  # noqa: E402
from deskintake.domain.ticket import Ticket  # noqa: E402
from deskintake.services.tickets import DEFAULT_SLA_TARGETS, TicketQuery, sla_windows  # noqa: E402

PRIORITY = {Category.CARD_FRAUD: Priority.URGENT, Category.ACCOUNT_SECURITY: Priority.URGENT,
            Category.ORDER_PENDING: Priority.HIGH, Category.PRODUCT_NOT_RECEIVED: Priority.HIGH,
            Category.PAYMENT_REFUND: Priority.HIGH, Category.SALES_INQUIRY: Priority.LOW,
            Category.FEEDBACK: Priority.LOW, Category.SPAM: Priority.NONE}
SUBJECTS = {Lang.ID: ["Pulsa belum masuk", "Saldo tidak bertambah", "Akun saya diblokir",
                      "Minta refund transaksi gagal", "Poin hadiah hilang"],
            Lang.ZH: ["信用卡被盗刷", "积分兑换问题", "账单查询", "无法登录", "申请提高额度"],
            Lang.EN: ["Charged twice", "Where is my order", "Cannot log in", "Refund status",
                      "Partnership proposal"]}


# A desk's history: most tickets are done; "--backlog" makes 60 % of them open instead.
HISTORY = {TicketStatus.OPEN: 6, TicketStatus.WAITING: 3, TicketStatus.RESOLVED: 15, TicketStatus.CLOSED: 76}
BACKLOG = {TicketStatus.OPEN: 60, TicketStatus.WAITING: 15, TicketStatus.RESOLVED: 20, TicketStatus.CLOSED: 5}


def make_tickets(n: int, now: datetime, rng: random.Random,
                 shares: dict[TicketStatus, int] = HISTORY, brand: str = "default") -> list[Ticket]:
    statuses = [status for status, share in shares.items() for _ in range(share)]
    tickets = []
    for i in range(n):
        lang = rng.choice(list(Lang))
        category = rng.choice(list(Category))
        created = now - timedelta(minutes=rng.randint(1, 30 * 24 * 60))
        updated = created + timedelta(minutes=rng.randint(0, 600))
        subject = rng.choice(SUBJECTS[lang])
        tickets.append(Ticket(
            id=f"TKT-B{i:06d}", brand=brand, channel=rng.choice(list(Channel)), customer=f"customer{i}@example.com",
            customer_name=f"Customer {i}", subject=f"{subject} #{i}", status=rng.choice(statuses),
            category=category, priority=PRIORITY.get(category, Priority.NORMAL),
            confidence=rng.random(), needs_triage=rng.random() < 0.1, lang=lang,
            created_at=created, updated_at=min(updated, now), message_count=1,
            preview=f"{subject} nomor pesanan INV-{i:08d} mohon dibantu",
            assignee=rng.choice([None, None, "ana@desk", "joko@desk"])))
    return tickets


def write(db: Any, table: str, tickets: list[Ticket]) -> float:
    started = time.perf_counter()

    def batch(chunk: list[Ticket]) -> None:
        request = {table: [{"PutRequest": {"Item": ticket_to_item(t)}} for t in chunk]}
        while request:
            request = db.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    chunks = [tickets[i:i + 25] for i in range(0, len(tickets), 25)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(batch, chunks))
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


class CallCounter:
    """Counts DynamoDB API calls per operation (botocore 'before-call' event)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def take(self) -> dict[str, int]:
        out = dict(self.calls)
        self.calls.clear()
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backlog", action="store_true", help="60 %% of the tickets open, not 6 %%")
    parser.add_argument("--http-port", type=int, default=18390)
    parser.add_argument("--aws-port", type=int, default=14390)
    parser.add_argument("--smtp-port", type=int, default=12390)
    args = parser.parse_args()

    from deskintake.local.stack import LocalStack, StackConfig

    state = Path(tempfile.mkdtemp(prefix="deskintake-bench-"))
    stack = LocalStack(StackConfig(http_port=args.http_port, aws_port=args.aws_port,
                                   smtp_port=args.smtp_port, state_dir=state, demo=False,
                                   clock=False, save_every_seconds=10**6))
    stack.start()
    failures = 0
    try:
        import os

        table = os.environ["DESKINTAKE_TABLE"]
        db = stack.aws.client("dynamodb")
        now = datetime.now(UTC)
        shares = BACKLOG if args.backlog else HISTORY
        from deskintake.runtime.brands import active

        # The stack's agent sees the configured brands (examples/brands.json), not "default".
        brand = active().brands[0].id
        tickets = make_tickets(args.tickets, now, random.Random(7), shares, brand)
        seconds = write(db, table, tickets)
        mix = Counter(str(t.status) for t in tickets)
        print(f"wrote {len(tickets)} tickets in {seconds:.1f} s (BatchWriteItem, 8 threads): {dict(mix)}")
        counter = CallCounter(db)
        queries = DynamoTicketQueries(db, table, counts_ttl_seconds=0)
        open_id = next(t.id for t in tickets if t.status == TicketStatus.OPEN)
        windows = sla_windows(now, DEFAULT_SLA_TARGETS)

        base, _ = timed(lambda: db.get_item(TableName=table, Key=ticket_key(open_id)), args.repeat)
        # moto answers any index Query by walking the whole table in Python, so an empty Query is
        # the floor every listing pays locally; DynamoDB's cost follows items read instead.
        floor, _ = timed(lambda: db.query(
            TableName=table, IndexName="ByStatus", KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": {"S": "no-such-brand#open"}}), args.repeat)
        counter.take()
        print(f"\nbaseline GetItem: {base * 1000:.1f} ms; empty index Query (moto's floor): "
              f"{floor * 1000:.1f} ms\n")
        print(f"{'adapter listing':44} {'median ms':>9} {'x GetItem':>9} {'x empty Q':>9} {'rows':>5} "
              f"{'read':>6}  calls")

        def deep_cursor(query: TicketQuery, pages: int) -> str | None:
            cursor = None
            for _ in range(pages):
                cursor = queries.list(TicketQuery(**{**query.__dict__, "cursor": cursor})).cursor
            return cursor

        open_q = TicketQuery(brand=brand, status=TicketStatus.OPEN, limit=25)
        cases: list[tuple[str, TicketQuery]] = [
            ("first page, open", open_q),
            ("first page, every status (ByBrand)", TicketQuery(brand=brand, limit=25)),
            ("filtered: open + card_fraud", TicketQuery(brand=brand, status=TicketStatus.OPEN, category=Category.CARD_FRAUD)),
            ("filtered: open + zh + urgent + triage", TicketQuery(brand=brand, status=TicketStatus.OPEN, lang="zh",
                                                                 priority=Priority.URGENT, needs_triage=True)),
            ("filtered: open + SLA breached", TicketQuery(brand=brand, status=TicketStatus.OPEN, sla="breached",
                                                         sla_windows=windows)),
            ("search: 'inv-00004' (open)", TicketQuery(brand=brand, status=TicketStatus.OPEN, text="inv-00004")),
            ("deep page: every status, page 100", TicketQuery(brand=brand, limit=25,
                                                              cursor=deep_cursor(TicketQuery(brand=brand, limit=25), 99))),
        ]
        counter.take()
        for name, query in cases:
            median, page = timed(lambda q=query: queries.list(q), args.repeat)
            calls = counter.take()
            per_run = {k: v // args.repeat for k, v in calls.items()}
            if "Scan" in calls:
                failures += 1
            print(f"{name:44} {median * 1000:9.1f} {median / base:9.1f} {median / floor:9.1f} "
                  f"{len(page.tickets):5} {page.read:6}  {per_run}{'  PARTIAL' if page.partial else ''}")
        since = (now - timedelta(days=7)).isoformat().replace("+00:00", "Z")
        median, counts = timed(lambda: queries.counts(brand, since=since), args.repeat)
        calls = {k: v // args.repeat for k, v in counter.take().items()}
        failures += "Scan" in calls
        print(f"{'counts (status COUNTs, open/waiting cats)':44} {median * 1000:9.1f} "
              f"{median / base:9.1f} {median / floor:9.1f} {'':5} {'':6}  {calls}")

        # The same through the HTTP API: gateway -> real handler -> moto.
        base_url = f"http://127.0.0.1:{args.http_port}"
        token = stack.token

        def get(path: str) -> Any:
            request = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())

        http_base, _ = timed(lambda: get(f"/api/tickets/{open_id}"), args.repeat)
        print(f"\nbaseline GET /api/tickets/{{id}}: {http_base * 1000:.1f} ms")
        print(f"{'HTTP listing':44} {'median ms':>9} {'x detail':>9}")
        for name, path in [("GET /api/tickets?status=open", "/api/tickets?status=open"),
                           ("GET /api/tickets?status=open&category=card_fraud",
                            "/api/tickets?status=open&category=card_fraud"),
                           ("GET /api/tickets?q=pulsa", "/api/tickets?status=open&q=pulsa"),
                           ("GET /api/tickets/counts", "/api/tickets/counts")]:
            median, _ = timed(lambda p=path: get(p), args.repeat)
            print(f"{name:44} {median * 1000:9.1f} {median / http_base:9.1f}")
        print("\nScan calls during listings:", "NONE" if not failures else f"{failures} CASES SCANNED")
    finally:
        stack.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
