"""The agents' API handler with API Gateway v2 events, inside moto with template.yaml's table."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
from deskintake.domain.model import (
    Category,
    Channel,
    Classification,
    InboundMessage,
    Lang,
    Priority,
    TicketStatus,
)
from deskintake.domain.ticket import Message, Ticket
from deskintake.local.functions import LocalFunctions
from deskintake.local.gateway import v2_event
from deskintake.local.template import HttpRoute

TOKEN = "test-agent-token"
ROUTE = HttpRoute(function="TicketsApiFunction", method="ANY", path="/api/{proxy+}")


class Api:
    def __init__(self, functions: LocalFunctions, calls: Counter[str]) -> None:
        self.functions = functions
        self.calls = calls

    def __call__(self, method: str, path: str, body: Any = None, *, token: str | None = TOKEN,
                 **query: Any) -> tuple[int, Any]:
        headers = {"host": "localhost", "content-type": "application/json"}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        raw = json.dumps(body).encode() if body is not None else b""
        qs = urlencode({k: v for k, v in query.items() if v is not None})
        event = v2_event(method, ROUTE, path, qs, headers, raw, {"proxy": path.removeprefix("/api/")},
                         "127.0.0.1")
        response = self.functions.invoke("TicketsApiFunction", event)
        text = response.get("body") or "null"
        return int(response["statusCode"]), json.loads(text)


@pytest.fixture
def api(moto_stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    from deskintake.runtime import api_wiring, wiring

    monkeypatch.setenv("DESKINTAKE_LOCAL", "1")
    monkeypatch.setenv("DESKINTAKE_API_TOKEN", TOKEN)
    for cached in (api_wiring.tickets_deps, api_wiring.auth_settings, wiring.client):
        cached.cache_clear()
    calls: Counter[str] = Counter()
    wiring.client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    yield Api(LocalFunctions(moto_stack["template"]), calls)
    for cached in (api_wiring.tickets_deps, api_wiring.auth_settings, wiring.client):
        cached.cache_clear()


@pytest.fixture
def repo(moto_stack: dict[str, Any]) -> DynamoTicketRepository:
    return DynamoTicketRepository(moto_stack["client"]("dynamodb"), moto_stack["env"]["DESKINTAKE_TABLE"])


def file(repo: DynamoTicketRepository, n: int, *, subject: str, text: str = "", lang: Lang = Lang.EN,
         category: Category = Category.GENERAL_INQUIRY, priority: Priority = Priority.NORMAL,
         age: timedelta = timedelta(minutes=1), triage: bool = False, html: str | None = None,
         channel: Channel = Channel.EMAIL) -> Ticket:
    at = datetime.now(UTC) - age
    inbound = InboundMessage(channel=channel, external_id=f"<m{n}@example.com>", customer=f"c{n}@example.com",
                             customer_name=f"Customer {n}", subject=subject, text=text or subject,
                             html=html, lang=lang, received_at=at)
    ticket = Ticket.open(inbound, Classification(category=category, priority=priority, confidence=0.9,
                                                 lang=lang, needs_triage=triage,
                                                 explanation=["keyword: pending"]),
                         ticket_id=f"TKT-{n:07d}")
    repo.create(ticket, Message.from_inbound(ticket.id, inbound), open_key=None)
    return ticket


def ids(body: dict[str, Any]) -> list[str]:
    return [t["id"] for t in body["tickets"]]


def test_every_route_needs_the_agent_token(api: Api, repo: DynamoTicketRepository) -> None:
    file(repo, 1, subject="x")
    for method, path in [("GET", "/api/tickets"), ("GET", "/api/tickets/TKT-0000001"),
                         ("PATCH", "/api/tickets/TKT-0000001"), ("GET", "/api/openapi.json"),
                         ("POST", "/api/tickets/TKT-0000001/replies")]:
        assert api(method, path, token=None)[0] == 401
        assert api(method, path, token="guess")[0] == 401


def test_the_inbox_lists_newest_first_from_the_status_index_without_scanning(api: Api, repo: DynamoTicketRepository) -> None:
    for n, age in enumerate([30, 10, 20], start=1):
        file(repo, n, subject=f"ticket {n}", age=timedelta(minutes=age))

    status, body = api("GET", "/api/tickets", status="open")

    assert status == 200
    assert ids(body) == ["TKT-0000002", "TKT-0000003", "TKT-0000001"]
    assert body["tickets"][0]["sla"]["state"] in {"ok", "due_soon"}
    assert api.calls["Query"] >= 1 and api.calls["Scan"] == 0


def test_pages_follow_the_cursor_without_gaps_or_repeats(api: Api, repo: DynamoTicketRepository) -> None:
    for n in range(1, 13):
        file(repo, n, subject=f"ticket {n}", age=timedelta(minutes=n))
    seen: list[str] = []
    cursor = None
    while True:
        status, body = api("GET", "/api/tickets", limit=5, cursor=cursor)
        assert status == 200
        seen += ids(body)
        cursor = body["cursor"]
        if cursor is None:
            break
    assert seen == [f"TKT-{n:07d}" for n in range(1, 13)]
    assert api.calls["Scan"] == 0


def test_filters_narrow_the_list_and_spam_stays_out_unless_asked(api: Api, repo: DynamoTicketRepository) -> None:
    file(repo, 1, subject="Kartu dibobol", lang=Lang.ID, category=Category.CARD_FRAUD, priority=Priority.URGENT)
    file(repo, 2, subject="积分兑换", lang=Lang.ZH, category=Category.REWARDS_POINTS, triage=True)
    file(repo, 3, subject="SLOT GACOR", lang=Lang.ID, category=Category.SPAM, priority=Priority.NONE)
    file(repo, 4, subject="Where is my order", category=Category.ORDER_PENDING, priority=Priority.HIGH,
         channel=Channel.WHATSAPP)

    assert set(ids(api("GET", "/api/tickets")[1])) == {"TKT-0000001", "TKT-0000002", "TKT-0000004"}
    assert "TKT-0000003" in ids(api("GET", "/api/tickets", include_spam="true")[1])
    assert ids(api("GET", "/api/tickets", category="spam")[1]) == ["TKT-0000003"]
    assert ids(api("GET", "/api/tickets", lang="zh")[1]) == ["TKT-0000002"]
    assert ids(api("GET", "/api/tickets", priority="urgent")[1]) == ["TKT-0000001"]
    assert ids(api("GET", "/api/tickets", channel="whatsapp")[1]) == ["TKT-0000004"]
    assert ids(api("GET", "/api/tickets", needs_triage="true")[1]) == ["TKT-0000002"]
    assert api.calls["Scan"] == 0


def test_free_text_search_matches_subject_and_masked_text_in_any_case_and_script(api: Api, repo: DynamoTicketRepository) -> None:
    file(repo, 1, subject="Pulsa belum masuk", text="Sudah bayar tapi pulsa BELUM masuk")
    file(repo, 2, subject="信用卡被盗刷", text="我的信用卡 622202******7894 被盗刷了", lang=Lang.ZH)
    file(repo, 3, subject="Double charge", text="I was charged twice")

    assert ids(api("GET", "/api/tickets", q="PULSA")[1]) == ["TKT-0000001"]
    assert ids(api("GET", "/api/tickets", q="盗刷")[1]) == ["TKT-0000002"]
    assert ids(api("GET", "/api/tickets", q="charged twice")[1]) == ["TKT-0000003"]
    assert ids(api("GET", "/api/tickets", q="nothing like this")[1]) == []


def test_sla_filters_find_overdue_and_nearly_due_unanswered_tickets(api: Api, repo: DynamoTicketRepository) -> None:
    file(repo, 1, subject="old urgent", priority=Priority.URGENT, age=timedelta(minutes=40))
    file(repo, 2, subject="fresh urgent", priority=Priority.URGENT, age=timedelta(minutes=12))
    file(repo, 3, subject="fresh normal", priority=Priority.NORMAL, age=timedelta(minutes=12))

    breached = api("GET", "/api/tickets", sla="breached")[1]
    assert ids(breached) == ["TKT-0000001"] and breached["tickets"][0]["sla"]["state"] == "breached"
    assert ids(api("GET", "/api/tickets", sla="due_soon")[1]) == ["TKT-0000002"]
    assert api("GET", "/api/tickets", sla="later")[0] == 422


def test_sla_badges_and_filters_count_staffed_hours_like_the_planner(
    api: Api, repo: DynamoTicketRepository
) -> None:
    import time_machine

    # The desk is staffed 07:00-23:00 WIB; card fraud and urgent tickets run round the clock.
    dawn = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # Monday 05:00 WIB
    with time_machine.travel(dawn, tick=False):
        file(repo, 1, subject="night pulsa", priority=Priority.NORMAL, age=timedelta(hours=4, minutes=30))
        file(repo, 2, subject="night fraud", category=Category.CARD_FRAUD, priority=Priority.HIGH,
             age=timedelta(hours=4, minutes=30))
        breached = api("GET", "/api/tickets", sla="breached")[1]
        night = next(t for t in api("GET", "/api/tickets")[1]["tickets"] if t["id"] == "TKT-0000001")
    # Four wall-clock hours have passed, but none of them staffed: due at 11:00 WIB, not yet late.
    assert ids(breached) == ["TKT-0000002"]
    assert night["sla"]["state"] == "ok"
    assert datetime.fromisoformat(night["sla"]["due_at"]) == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)

    with time_machine.travel(datetime(2026, 11, 23, 3, 45, tzinfo=UTC), tick=False):  # 10:45 WIB
        assert ids(api("GET", "/api/tickets", sla="due_soon")[1]) == ["TKT-0000001"]
    with time_machine.travel(datetime(2026, 11, 23, 4, 30, tzinfo=UTC), tick=False):  # 11:30 WIB
        later = api("GET", "/api/tickets", sla="breached")[1]
    assert sorted(ids(later)) == ["TKT-0000001", "TKT-0000002"]
    assert {t["sla"]["state"] for t in later["tickets"]} == {"breached"}


def test_the_detail_has_the_thread_with_email_html_made_safe(api: Api, repo: DynamoTicketRepository) -> None:
    html = '<p>Hi <b>there</b></p><script>window.__xss=1</script><img src="https://t.example/p.gif" onerror="x()">'
    file(repo, 1, subject="html", html=html)

    status, body = api("GET", "/api/tickets/TKT-0000001")

    assert status == 200
    (message,) = body["messages"]
    assert "<b>there</b>" in message["html_safe"]
    assert "script" not in message["html_safe"] and "<img" not in message["html_safe"]
    assert body["ticket"]["explanation"] == ["keyword: pending"]
    assert [e["kind"] for e in body["events"]] == []
    assert api("GET", "/api/tickets/TKT-9999999")[0] == 404
    assert api("GET", "/api/tickets/not-a-ticket")[0] == 422


def test_a_stale_update_gets_409_and_a_fresh_one_is_applied(api: Api, repo: DynamoTicketRepository) -> None:
    file(repo, 1, subject="x")

    ok, changed = api("PATCH", "/api/tickets/TKT-0000001", {"expected_version": 1, "status": "waiting",
                                                             "assignee": "me@desk"})
    stale, error = api("PATCH", "/api/tickets/TKT-0000001", {"expected_version": 1, "status": "closed"})
    bad, _ = api("PATCH", "/api/tickets/TKT-0000001", {"expected_version": 2, "status": "deleted"})
    missing_version, _ = api("PATCH", "/api/tickets/TKT-0000001", {"status": "closed"})

    assert (ok, changed["status"], changed["assignee"], changed["version"]) == (200, "waiting", "me@desk", 2)
    assert stale == 409 and "changed" in error["message"]
    assert bad == 422 and missing_version == 422
    assert repo.get("TKT-0000001").status == "waiting"
    assert ids(api("GET", "/api/tickets", status="waiting", assignee="me@desk")[1]) == ["TKT-0000001"]
    unassign = api("PATCH", "/api/tickets/TKT-0000001", {"expected_version": 2, "assignee": None})
    assert unassign[0] == 200 and unassign[1]["assignee"] is None
    assert ids(api("GET", "/api/tickets", status="waiting", assignee="-")[1]) == ["TKT-0000001"]


def test_a_reply_goes_out_through_ses_and_a_note_stays_internal(api: Api, repo: DynamoTicketRepository) -> None:
    file(repo, 1, subject="Pulsa belum masuk", lang=Lang.ID)

    status, body = api("POST", "/api/tickets/TKT-0000001/replies",
                       {"text": "Mohon ditunggu ya Kak", "expected_version": 1, "status_after": "waiting"})
    note_status, note = api("POST", "/api/tickets/TKT-0000001/notes", {"text": "cek operator"})

    assert status == 201 and body["message"]["delivery_status"] == "sent"
    assert body["ticket"]["status"] == "waiting" and body["ticket"]["sla"]["state"] == "met"
    assert note_status == 201 and note["direction"] == "note"
    detail = api("GET", "/api/tickets/TKT-0000001")[1]
    assert [m["direction"] for m in detail["messages"]] == ["in", "out"]
    assert [n["text"] for n in detail["notes"]] == ["cek operator"]
    assert "agent_replied" in [e["kind"] for e in detail["events"]]
    assert api("POST", "/api/tickets/TKT-0000001/notes", {"text": ""})[0] == 422


def test_counts_per_status_and_open_category(api: Api, repo: DynamoTicketRepository) -> None:
    file(repo, 1, subject="a", category=Category.CARD_FRAUD)
    file(repo, 2, subject="b", category=Category.CARD_FRAUD)
    file(repo, 3, subject="c", category=Category.FEEDBACK, triage=True)
    file(repo, 4, subject="SLOT GACOR", category=Category.SPAM, priority=Priority.NONE)
    assert api("GET", "/api/tickets/counts")[1]["by_status"]["open"] == 3  # then cached
    api("PATCH", "/api/tickets/TKT-0000003", {"expected_version": 1, "status": "resolved"})

    status, body = api("GET", "/api/tickets/counts")

    assert status == 200
    # The change shows at once; spam is counted by category but not in the inbox tabs.
    assert body["by_status"] == {"open": 2, "waiting": 0, "resolved": 1, "closed": 0}
    assert body["by_category"] == {"card_fraud": 2, "spam": 1}
    assert api.calls["Scan"] == 0


def test_counts_leave_out_tickets_closed_long_ago(api: Api, repo: DynamoTicketRepository) -> None:
    old = file(repo, 1, subject="last month", age=timedelta(days=40))
    repo.save(old.updated(old.created_at + timedelta(days=1), status=TicketStatus.CLOSED), expected_version=1)
    recent = file(repo, 2, subject="today", age=timedelta(hours=2))
    repo.save(recent.updated(datetime.now(UTC), status=TicketStatus.CLOSED), expected_version=1)

    body = api("GET", "/api/tickets/counts")[1]

    assert body["by_status"]["closed"] == 1
    assert ids(api("GET", "/api/tickets", status="closed")[1]) == ["TKT-0000002", "TKT-0000001"]


def test_a_category_correction_is_exported_for_retraining(api: Api, repo: DynamoTicketRepository,
                                                          tmp_path: Path) -> None:
    file(repo, 1, subject="Poin saya hilang", text="Poin reward saya hilang", lang=Lang.ID)
    assert api("PATCH", "/api/tickets/TKT-0000001", {"expected_version": 1, "category": "rewards_points"})[0] == 200

    from deskintake.commands import export_corrections

    out = tmp_path / "corrections.jsonl"
    assert export_corrections.run(argparse.Namespace(out=out, brand="default", state_dir=None)) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows == [{"subject": "Poin saya hilang", "text": "Poin reward saya hilang",
                     "category": "rewards_points", "lang": "id"}]


def test_the_openapi_document_describes_the_routes(api: Api) -> None:
    status, schema = api("GET", "/api/openapi.json")
    assert status == 200
    assert {"/api/tickets", "/api/tickets/{ticket_id}", "/api/tickets/{ticket_id}/replies"} <= set(schema["paths"])
    assert "patch" in schema["paths"]["/api/tickets/{ticket_id}"]
