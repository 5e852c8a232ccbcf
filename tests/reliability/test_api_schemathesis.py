"""schemathesis against the agents' API's own OpenAPI document, over HTTP on the local stack.

Every generated request (valid and invalid bodies, query strings, path ids) must get a clear
answer: never a 5xx, and never a response that breaks the document's own schema.
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.e2e.conftest import RunningStack, start_stack, stop_stack


@pytest.fixture(scope="module")
def api_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("schemathesis"))
    mail = EmailMessage()
    mail["From"] = "budi@mail.example.net"
    mail["To"] = "info@support.localhost"
    mail["Subject"] = "Pulsa pending"
    mail["Message-ID"] = "<schemathesis-seed@mail.example.net>"
    mail.set_content("Sudah bayar pulsa 50rb tapi status masih pending.")
    with smtplib.SMTP(stack.config.host, stack.config.smtp_port, timeout=30) as smtp:
        smtp.send_message(mail)
    yield stack
    stop_stack(stack)


@pytest.fixture(scope="module")
def api_schema(api_stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Any:
    request = urllib.request.Request(f"{api_stack.base_url}/api/openapi.json",
                                     headers={"Authorization": f"Bearer {api_stack.token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        document = json.load(response)
    document["servers"] = [{"url": api_stack.base_url}]
    path = Path(tmp_path_factory.mktemp("schema")) / "openapi.json"
    path.write_text(json.dumps(document))
    return schemathesis.openapi.from_path(str(path))


def operations(api_schema: Any) -> list[Any]:
    # schemathesis's pytest plugin does not run under pytest 9; drive its strategies directly.
    return [result.ok() for result in api_schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_never_answers_with_a_server_error(api_schema: Any, api_stack: RunningStack,
                                                   mode: GenerationMode) -> None:
    auth = {"Authorization": f"Bearer {api_stack.token}"}
    checked: list[str] = []
    calls: list[int] = []
    for operation in operations(api_schema):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def call(case: Any) -> None:
            response = case.call(base_url=api_stack.base_url, headers=auth, timeout=30)
            calls.append(response.status_code)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")
            if mode == GenerationMode.NEGATIVE:
                return  # invalid input: any clear 4xx will do
            if response.status_code < 300:
                case.validate_response(response)

        try:
            call()
        except Unsatisfiable:
            if mode == GenerationMode.NEGATIVE:
                continue  # nothing about this operation can be made invalid (no parameters)
            raise
        checked.append(operation.label)
    assert len(checked) >= (6 if mode == GenerationMode.POSITIVE else 3), checked
    if mode == GenerationMode.NEGATIVE:
        assert any(400 <= c < 500 for c in calls)
    assert len(calls) >= 5 * len(checked)  # the strategies really generated requests
    print(f"schemathesis: {len(calls)} requests over {len(checked)} operations, statuses {sorted(set(calls))}")


def test_every_route_refuses_a_request_without_the_token(api_schema: Any, api_stack: RunningStack) -> None:
    for operation in operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def call(case: Any) -> None:
            response = case.call(base_url=api_stack.base_url, headers={"Authorization": "Bearer not-the-token"}, timeout=30)
            assert response.status_code == 401, f"{case.method} {case.formatted_path}: {response.status_code}"

        call()
