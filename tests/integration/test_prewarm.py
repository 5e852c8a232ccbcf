"""Provisioned concurrency: the functions build their clients during INIT; on demand they don't."""

from __future__ import annotations

from typing import Any

import pytest
from deskintake.commands.chat_send import build_request
from deskintake.runtime import chat_wiring, wiring

from tests.chat_support import SECRETS, call, load_handler


@pytest.fixture
def fresh_wiring(moto_stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DESKINTAKE_LOCAL", "1")
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    caches = (wiring.client, wiring.email_intake_deps, chat_wiring._deps)
    for cached in caches:
        cached.cache_clear()
    yield monkeypatch
    for cached in caches:
        cached.cache_clear()


@pytest.mark.parametrize("handler", ["email_intake", "chat_webhook"])
def test_a_provisioned_sandbox_builds_its_clients_before_the_first_request(
    fresh_wiring: pytest.MonkeyPatch, handler: str
) -> None:
    fresh_wiring.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")

    module = load_handler(f"functions/{handler}/handler.py", f"prewarm_{handler}")

    assert wiring.client.cache_info().currsize >= 4  # s3, dynamodb, events, scheduler (+ ses)
    if handler == "chat_webhook":  # and the first request is served with what INIT built
        built = wiring.client.cache_info().currsize
        path, headers, body = build_request("whatsapp", "saldo kepotong", sender="6281200000999",
                                            secrets_env=SECRETS)
        status, answer = call(module, "POST", path, body=body, headers=headers)
        assert status == 200 and answer["tickets"][0]["created"], answer
        assert wiring.client.cache_info().currsize == built


@pytest.mark.parametrize("handler", ["email_intake", "chat_webhook"])
def test_an_on_demand_cold_start_leaves_clients_to_the_first_request(
    fresh_wiring: pytest.MonkeyPatch, handler: str
) -> None:
    fresh_wiring.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")

    load_handler(f"functions/{handler}/handler.py", f"on_demand_{handler}")

    assert wiring.client.cache_info().currsize == 0
