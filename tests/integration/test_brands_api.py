"""Agents see only their brands' tickets: every API route answers 404 for another brand's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
from deskintake.domain.model import (
    Category,
    Channel,
    Classification,
    InboundMessage,
    Lang,
    Priority,
)
from deskintake.domain.ticket import Message, Ticket

from tests.integration.test_tickets_api import TOKEN, Api

ROOT = Path(__file__).resolve().parents[2]
PULSA, KARTU = "pulsa-agent-token", "kartu-agent-token"


@pytest.fixture
def api(moto_stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Api]:
    from deskintake.local.functions import LocalFunctions
    from deskintake.runtime import api_wiring, wiring

    users = tmp_path / "users.json"
    users.write_text(json.dumps({"users": [
        {"id": "ani@pulsa", "name": "Ani", "token": PULSA, "brands": ["pulsa"]},
        {"id": "wei@kartu", "name": "Wei", "token": KARTU, "brands": ["kartu"]},
    ]}), encoding="utf-8")
    monkeypatch.setenv("DESKINTAKE_LOCAL", "1")
    monkeypatch.setenv("DESKINTAKE_API_TOKEN", TOKEN)
    monkeypatch.setenv("DESKINTAKE_USERS_FILE", str(users))
    monkeypatch.setenv("DESKINTAKE_BRANDS_FILE", str(ROOT / "examples" / "brands.json"))
    for cached in (api_wiring.tickets_deps, api_wiring.auth_settings, wiring.client):
        cached.cache_clear()
    from collections import Counter

    yield Api(LocalFunctions(moto_stack["template"]), Counter())
    for cached in (api_wiring.tickets_deps, api_wiring.auth_settings, wiring.client):
        cached.cache_clear()


def file(repo: DynamoTicketRepository, n: int, brand: str, *, age_minutes: int = 1) -> Ticket:
    at = datetime.now(UTC) - timedelta(minutes=age_minutes)
    inbound = InboundMessage(channel=Channel.EMAIL, external_id=f"<b{n}@example.com>",
                             customer=f"c{n}@example.com", subject=f"{brand} question {n}",
                             text="A question", lang=Lang.EN, received_at=at)
    ticket = Ticket.open(inbound, Classification(category=Category.GENERAL_INQUIRY,
                                                 priority=Priority.NORMAL, confidence=0.9, lang=Lang.EN),
                         ticket_id=f"TKT-{n:07d}", brand=brand)
    repo.create(ticket, Message.from_inbound(ticket.id, inbound), open_key=None)
    return ticket


@pytest.fixture
def tickets(moto_stack: dict[str, Any]) -> dict[str, Ticket]:
    repo = DynamoTicketRepository(moto_stack["client"]("dynamodb"), moto_stack["env"]["DESKINTAKE_TABLE"])
    return {"pulsa": file(repo, 1, "pulsa", age_minutes=3), "kartu": file(repo, 2, "kartu", age_minutes=2)}


def routes(ticket: Ticket) -> list[tuple[str, str, Any]]:
    """Every route that names a ticket, with a valid body."""
    path = f"/api/tickets/{ticket.id}"
    return [
        ("GET", path, None),
        ("PATCH", path, {"expected_version": ticket.version, "status": "resolved"}),
        ("POST", f"{path}/notes", {"text": "internal"}),
        ("POST", f"{path}/replies", {"text": "Hello from support"}),
    ]


def test_every_ticket_route_answers_404_for_another_brands_ticket(api: Api, tickets: dict[str, Ticket]) -> None:
    for token, foreign in ((PULSA, tickets["kartu"]), (KARTU, tickets["pulsa"])):
        for method, path, body in routes(foreign):
            status, answer = api(method, path, body, token=token)
            assert status == 404, (method, path, status, answer)
            assert answer == {"message": "ticket not found"}  # same as a number never issued
        status, missing = api("GET", "/api/tickets/TKT-9999999", token=token)
        assert (status, missing) == (404, {"message": "ticket not found"})
    # Nothing was changed, noted or sent by those refused calls.
    status, detail = api("GET", f"/api/tickets/{tickets['kartu'].id}", token=KARTU)
    assert status == 200 and detail["notes"] == [] and detail["ticket"]["status"] == "open"
    assert [m["direction"] for m in detail["messages"]] == ["in"]


def test_each_agent_works_on_their_own_brands_tickets(api: Api, tickets: dict[str, Ticket]) -> None:
    for token, own in ((PULSA, tickets["pulsa"]), (KARTU, tickets["kartu"])):
        for method, path, body in routes(own)[:3]:
            status, answer = api(method, path, body, token=token)
            assert status in {200, 201}, (method, path, status, answer)


def test_listings_and_counts_show_only_the_agents_brands(api: Api, tickets: dict[str, Ticket]) -> None:
    status, page = api("GET", "/api/tickets", token=PULSA)
    assert status == 200 and [t["id"] for t in page["tickets"]] == [tickets["pulsa"].id]
    assert api("GET", "/api/tickets", token=PULSA, brand="kartu")[1]["tickets"] == []
    status, counts = api("GET", "/api/tickets/counts", token=KARTU)
    assert status == 200 and counts["by_status"]["open"] == 1
    status, me = api("GET", "/api/me", token=KARTU)
    assert [b["id"] for b in me["brands"]] == ["kartu"]


def test_the_admin_sees_every_brand_merged_newest_first_across_pages(api: Api, tickets: dict[str, Ticket],
                                                                     moto_stack: dict[str, Any]) -> None:
    repo = DynamoTicketRepository(moto_stack["client"]("dynamodb"), moto_stack["env"]["DESKINTAKE_TABLE"])
    for n in range(3, 9):
        file(repo, n, "pulsa" if n % 3 else "kartu", age_minutes=10 - n)
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10):
        status, page = api("GET", "/api/tickets", limit=3, cursor=cursor)
        assert status == 200, page
        seen += page["tickets"]
        cursor = page["cursor"]
        if cursor is None:
            break
    ids = [t["id"] for t in seen]
    assert len(ids) == len(set(ids)) == 8  # no gaps, no repeats
    stamps = [t["updated_at"] for t in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert {t["brand"] for t in seen} == {"pulsa", "kartu"}
    assert api("GET", "/api/tickets/counts")[1]["by_status"]["open"] == 8
    assert api("GET", "/api/tickets", brand="kartu")[1]["tickets"][0]["brand"] == "kartu"
