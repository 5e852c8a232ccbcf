"""Every AWS request a function makes is one its policy in template.yaml allows.

moto does not enforce IAM, so a function that starts using a new API (a BatchGetItem, a
transaction with a Delete in it) passes every other test here and fails in the cloud with
AccessDenied. This runs each function through its everyday work in moto, records each request
by the function that made it, and checks it against that function's own Allow statements
(a transaction needs the action of each of its items, as IAM evaluates it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from botocore.client import BaseClient
from deskintake.commands.chat_send import build_request
from deskintake.inbound.ses import ses_event
from deskintake.local.functions import LocalFunctions
from deskintake.local.gateway import v2_event
from deskintake.local.template import HttpRoute

from tests.chat_support import SECRETS
from tests.conftest import EXAMPLES, ROOT

ARRIVAL = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 WIB on a Monday
TOKEN = "iam-test-agent-token"
_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
             "ConditionCheck": "ConditionCheckItem"}


def _allowed(function: str) -> set[str]:
    from samtranslator.yaml_helper import yaml_parse

    resources = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))["Resources"]
    policies = resources[function]["Properties"].get("Policies") or []
    actions: set[str] = set()
    for policy in policies if isinstance(policies, list) else [policies]:
        if isinstance(policy, dict) and "Ref" in policy:  # a managed policy of the template
            policy = resources[policy["Ref"]]["Properties"]["PolicyDocument"]
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if statement.get("Effect") == "Allow":
                found = statement.get("Action", [])
                actions.update(a.lower() for a in (found if isinstance(found, list) else [found]))
    return actions


def _actions(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """The IAM actions a request needs."""
    if service == "dynamodb" and operation == "TransactWriteItems":
        return [f"dynamodb:{_TRANSACT[next(iter(item))]}" for item in params["TransactItems"]]
    return [f"{service}:{operation}"]


class Recorder:
    """Which function made which request."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.made: dict[str, set[str]] = {}

    def __call__(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if self.current is not None:
            self.made.setdefault(self.current, set()).update(_actions(service, operation, params))


@pytest.fixture
def recorder(moto_stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    from aws_lambda_powertools.utilities import parameters
    from deskintake.runtime import api_wiring, chat_wiring, wiring

    monkeypatch.setenv("DESKINTAKE_LOCAL", "1")
    monkeypatch.setenv("DESKINTAKE_API_TOKEN", TOKEN)
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    caches = (api_wiring.tickets_deps, api_wiring.auth_settings, chat_wiring._deps, wiring.client)
    for cached in caches:
        cached.cache_clear()
    parameters.clear_caches()
    recorder = Recorder()
    original = BaseClient._make_api_call

    def recorded(client: BaseClient, operation: str, params: Any) -> Any:
        recorder(client.meta.service_model.service_name, operation, params)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    yield recorder
    for cached in caches:
        cached.cache_clear()
    parameters.clear_caches()


def test_each_function_calls_only_what_its_policy_allows(
    moto_stack: dict[str, Any], recorder: Recorder
) -> None:
    functions = LocalFunctions(moto_stack["template"])
    env = moto_stack["env"]

    @contextmanager
    def as_function(name: str, at: datetime) -> Iterator[None]:
        recorder.current = name
        with time_machine.travel(at, tick=False):
            yield
        recorder.current = None

    def mail(raw: bytes, key: str, at: datetime) -> dict[str, Any]:
        moto_stack["client"]("s3").put_object(Bucket=env["DESKINTAKE_RAW_BUCKET"],
                                              Key=f"inbound/{key}", Body=raw)
        with as_function("EmailIntakeFunction", at):
            out = functions.invoke("EmailIntakeFunction", ses_event(
                key, timestamp=at, source="budi@example.net", recipients=["info@support.localhost"]))
        return dict(out["outcomes"][0])

    def http(function: str, route: HttpRoute, method: str, path: str, body: bytes,
             headers: dict[str, str], at: datetime, params: dict[str, str] | None = None) -> Any:
        event = v2_event(method, route, path, "", {k.lower(): v for k, v in headers.items()}, body,
                         params or {}, "203.0.113.9")
        with as_function(function, at):
            response = functions.invoke(function, event)
        assert response["statusCode"] in (200, 201), response
        return json.loads(response["body"])

    # Email: a new ticket (acknowledged) and the customer's reply to the acknowledgement.
    first = mail((EXAMPLES / "emails" / "01-id-order-pending.eml").read_bytes(), "iam-1", ARRIVAL)
    ticket_id = first["ticket_id"]
    (ack,) = [i["external_id"]["S"] for i in moto_stack["client"]("dynamodb").query(
        TableName=env["DESKINTAKE_TABLE"], KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"T#{ticket_id}"}})["Items"]
        if i.get("direction", {}).get("S") == "out"]
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "budi@example.net", "info@support.localhost", "Re: x"
    reply["Message-ID"], reply["In-Reply-To"] = "<iam-reply@example.net>", f"<{ack}>"
    reply.set_content("Masih belum masuk kak.")
    assert mail(reply.as_bytes(), "iam-2", ARRIVAL + timedelta(minutes=2))["ticket_id"] == ticket_id

    # Chat: a customer's first message, then a burst of two on the open ticket.
    chat_route = HttpRoute("ChatWebhookFunction", "POST", "/webhooks/whatsapp")
    for n, at in ((1, ARRIVAL), (2, ARRIVAL + timedelta(minutes=1))):
        path, headers, body = build_request("whatsapp", f"saldo kepotong {n}", sender="6281200000777",
                                            message_id=f"wamid.iam{n}", secrets_env=SECRETS)
        http("ChatWebhookFunction", chat_route, "POST", path, body, headers, at)

    # Follow-ups: the pending-order check fires, then the first-response SLA breaches.
    scheduler = moto_stack["client"]("scheduler")
    group = env["DESKINTAKE_SCHEDULE_GROUP"]
    for kind in ("order_check", "first_response"):
        target = json.loads(scheduler.get_schedule(Name=f"{ticket_id}.{kind}", GroupName=group)
                            ["Target"]["Input"])
        due = datetime.fromisoformat(target["due_at"])
        with as_function("FollowUpFunction", due + timedelta(minutes=1)):
            assert functions.invoke("FollowUpFunction", target)["outcome"] == "acted"

    # The agents' API: the inbox, a ticket, a reply by email, a status change.
    api = HttpRoute("TicketsApiFunction", "ANY", "/api/{proxy+}")
    auth = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json", "host": "localhost"}
    later = ARRIVAL + timedelta(hours=2)

    def call(method: str, path: str, payload: Any = None) -> Any:
        body = json.dumps(payload).encode() if payload is not None else b""
        return http("TicketsApiFunction", api, method, path, body, auth, later,
                    {"proxy": path.removeprefix("/api/")})

    assert call("GET", "/api/tickets")["tickets"]
    detail = call("GET", f"/api/tickets/{ticket_id}")
    call("POST", f"/api/tickets/{ticket_id}/replies", {"text": "Sudah kami cek, pulsa masuk."})
    version = call("GET", f"/api/tickets/{ticket_id}")["ticket"]["version"]
    call("PATCH", f"/api/tickets/{ticket_id}", {"expected_version": version, "status": "resolved"})
    assert detail["ticket"]["id"] == ticket_id

    assert set(recorder.made) == {"EmailIntakeFunction", "ChatWebhookFunction", "FollowUpFunction",
                                  "TicketsApiFunction"}
    missing = {fn: sorted(a for a in made if a.lower() not in _allowed(fn))
               for fn, made in recorder.made.items()}
    assert missing == {fn: [] for fn in recorder.made}, missing
