"""Shared fixtures: paths, moto resources built from template.yaml, fakes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EVENTS = ROOT / "tests" / "events"
EXAMPLES = ROOT / "examples"

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials that can reach nothing real; moto answers instead."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "ap-southeast-1",
                       "AWS_REGION": "ap-southeast-1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def moto_stack(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto in-process with every resource of template.yaml, and the env the functions get."""
    import boto3
    from deskintake.local.aws import create_template_resources
    from deskintake.local.stack import LOCAL_SUPPORT_ADDRESS
    from deskintake.local.template import LocalTemplate
    from deskintake.runtime import wiring
    from moto import mock_aws

    template = LocalTemplate.load(ROOT / "template.yaml", SupportAddress=LOCAL_SUPPORT_ADDRESS)
    with mock_aws():
        create_template_resources(template, lambda s: boto3.client(s, region_name="ap-southeast-1"),
                                  verified_senders=[LOCAL_SUPPORT_ADDRESS])
        env = template.function_env()
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        _clear_caches(wiring)
        yield {"template": template, "env": env,
               "client": lambda s: boto3.client(s, region_name="ap-southeast-1")}
        _clear_caches(wiring)


def _clear_caches(module: Any) -> None:
    for name in dir(module):
        fn = getattr(module, name)
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()


@pytest.fixture
def chat_handler(moto_stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The chat webhook handler module over moto, with the test secrets set locally."""
    from aws_lambda_powertools.utilities import parameters
    from deskintake.runtime import chat_wiring

    from tests.chat_support import SECRETS, load_handler

    monkeypatch.setenv("DESKINTAKE_LOCAL", "1")
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    chat_wiring._deps.cache_clear()
    parameters.clear_caches()
    yield load_handler("functions/chat_webhook/handler.py", "test_chat_webhook_handler")
    chat_wiring._deps.cache_clear()
    parameters.clear_caches()
