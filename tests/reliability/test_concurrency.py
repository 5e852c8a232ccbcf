"""Real races (threads released together by a barrier) against moto's server, serialised per
request as DynamoDB serialises conditional writes: the conditional writes and version checks
of the real adapters must leave exactly one ticket, every message, and no lost update."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
from deskintake.domain.errors import ConflictError

from tests.conftest import ROOT
from tests.reliability.conftest import AsyncLambda, _clear, inbound_messages, put_mail, tickets

ROUNDS = 4


@pytest.fixture
def server_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from deskintake.local.aws import (
        LOCAL_CREDENTIALS,
        _serialized_moto_server,
        create_template_resources,
    )
    from deskintake.local.stack import LOCAL_SUPPORT_ADDRESS
    from deskintake.local.template import LocalTemplate
    from deskintake.runtime import chat_wiring, follow_up_wiring, wiring

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _serialized_moto_server()(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    import urllib.request

    # moto's backends are per process, shared by every server: start from nothing.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)
    for key, value in {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(key, value)
    template = LocalTemplate.load(ROOT / "template.yaml", SupportAddress=LOCAL_SUPPORT_ADDRESS)

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint, region_name="ap-southeast-1")

    create_template_resources(template, client, verified_senders=[LOCAL_SUPPORT_ADDRESS])
    env = template.function_env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _clear(wiring, chat_wiring, follow_up_wiring)
    yield {"template": template, "env": env, "client": client}
    _clear(wiring, chat_wiring, follow_up_wiring)
    server.stop()


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same instant; results or raised exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - returned for the test to inspect
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _mail(n: int, *, reply_to: str | None = None, sender: str = "budi@mail.example.net") -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Budi <{sender}>"
    mail["To"] = "info@support.localhost"
    mail["Subject"] = "Saldo terpotong tapi pulsa belum masuk" if reply_to is None else "Re: saldo"
    mail["Message-ID"] = f"<race-{n}@mail.example.net>"
    if reply_to:
        mail["In-Reply-To"] = reply_to
        mail["References"] = reply_to
    mail.set_content(f"Pesan nomor {n}: saldo saya terpotong dua kali.")
    return bytes(mail)


def test_two_deliveries_of_the_same_mail_at_once_make_one_ticket(server_stack: dict[str, Any]) -> None:
    email = AsyncLambda(server_stack, "EmailIntakeFunction")
    for n in range(ROUNDS):
        raw = _mail(n, sender=f"budi{n}@mail.example.net")
        events = [put_mail(server_stack, raw, f"dup{n}a"), put_mail(server_stack, raw, f"dup{n}b")]
        results = race(*(lambda e=e: email.invoke(e) for e in events))
        assert not any(isinstance(r, Exception) for r in results), results
        outcomes = [r["outcomes"][0] for r in results]
        assert sorted(o["duplicate"] for o in outcomes) == [False, True]
        assert outcomes[0]["ticket_id"] == outcomes[1]["ticket_id"]
    assert len(tickets(server_stack)) == ROUNDS
    assert len(inbound_messages(server_stack)) == ROUNDS


def test_two_replies_to_one_ticket_at_once_both_land_on_it(server_stack: dict[str, Any]) -> None:
    email = AsyncLambda(server_stack, "EmailIntakeFunction")
    first = email.invoke(put_mail(server_stack, _mail(100), "first"))["outcomes"][0]
    repo = DynamoTicketRepository(server_stack["client"]("dynamodb"), server_stack["env"]["DESKINTAKE_TABLE"])
    for n in range(ROUNDS):
        before = repo.get(first["ticket_id"])
        events = [put_mail(server_stack, _mail(200 + 2 * n + k, reply_to="<race-100@mail.example.net>"),
                           f"reply{n}{k}") for k in range(2)]
        results = race(*(lambda e=e: email.invoke(e) for e in events))
        assert not any(isinstance(r, Exception) for r in results), results
        assert {r["outcomes"][0]["ticket_id"] for r in results} == {first["ticket_id"]}
        after = repo.get(first["ticket_id"])
        # Both appends went through the version check: neither overwrote the other.
        assert after.version == before.version + 2
        assert after.message_count == before.message_count + 2
    inbound = [m for m in repo.messages(first["ticket_id"]) if m.direction == "in"]
    assert len(inbound) == 1 + 2 * ROUNDS and len(tickets(server_stack)) == 1


def test_an_agent_update_racing_a_follow_up_never_loses_either(server_stack: dict[str, Any]) -> None:
    email = AsyncLambda(server_stack, "EmailIntakeFunction")
    ticket_id = email.invoke(put_mail(server_stack, _mail(300), "agent"))["outcomes"][0]["ticket_id"]
    repo = DynamoTicketRepository(server_stack["client"]("dynamodb"), server_stack["env"]["DESKINTAKE_TABLE"])
    for _ in range(ROUNDS):
        seen = repo.get(ticket_id)
        now = datetime.now(UTC)
        agent = seen.updated(now, assignee="agent@support.example")  # the agent's edit
        escalation = seen.updated(now, priority="urgent")  # the follow-up's escalation
        results = race(lambda a=agent, v=seen.version: repo.save(a, expected_version=v),
                       lambda e=escalation, v=seen.version: repo.save(e, expected_version=v))
        conflicts = [r for r in results if isinstance(r, ConflictError)]
        assert len(conflicts) == 1, results  # exactly one wins; the other must re-read
        stored = repo.get(ticket_id)
        assert stored.version == seen.version + 1
        assert stored in (agent, escalation) or stored.model_dump() in (agent.model_dump(),
                                                                        escalation.model_dump())


def test_the_local_gateway_queues_a_burst_of_connections() -> None:
    """Regression: with the default listen backlog of 5, `make load` saw a connection reset."""
    import time
    import urllib.request

    from deskintake.local.gateway import LocalGateway
    from deskintake.local.template import HttpRoute

    def slow(_: str, event: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.05)
        return {"statusCode": 200, "body": "{}", "headers": {"content-type": "application/json"}}

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gateway = LocalGateway([HttpRoute("Fn", "POST", "/burst")], slow)
    gateway.start("127.0.0.1", port)
    try:
        def post() -> int:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/burst", data=b"{}", method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)

        results = race(*([post] * 100))
    finally:
        gateway.stop()
    assert results == [200] * 100, [r for r in results if r != 200][:3]
