"""Reliability helpers: faults injected into the real boto3 clients, SES/Lambda delivery with DLQ.

Faults are HTTP error responses handed to botocore in place of moto's answer (a `before-send`
hook registered first on the very client the adapters use), so botocore's own retry logic
runs exactly as in Lambda: a fault that clears before the attempts run out is invisible.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from deskintake.adapters._dynamo import from_attrs
from deskintake.inbound.ses import ses_event
from deskintake.local.functions import LambdaContext, LocalFunctions

from tests.conftest import ROOT

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, inside business hours in Jakarta


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        return self._body


def error_response(service: str, code: str, status: int) -> tuple[int, dict[str, str], bytes]:
    """An AWS error response in the service's own protocol."""
    if service == "dynamodb":
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"})
        return status, {"Content-Type": "application/x-amz-json-1.0"}, body.encode()
    if service == "s3":
        return status, {"Content-Type": "application/xml"}, (
            f"<Error><Code>{code}</Code><Message>injected</Message></Error>").encode()
    if service in {"ses", "sqs"}:
        return status, {"Content-Type": "text/xml"}, (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message>"
            f"</Error><RequestId>r</RequestId></ErrorResponse>").encode()
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, json.dumps(
        {"message": "injected"}).encode()


@dataclass
class Fault:
    service: str
    operation: str
    code: str
    status: int
    times: int | None  # None: until cleared
    lost_response: bool = False  # True: the service did the work, the answer was lost
    hits: int = 0


@dataclass
class Faults:
    """Fail chosen operations of the adapters' clients a number of times, then let them through."""

    active: list[Fault] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _hooked: set[int] = field(default_factory=set)

    def fail(self, client: Any, operation: str, *, code: str, status: int = 400,
             times: int | None = None, lost_response: bool = False) -> Fault:
        service = client.meta.service_model.service_name
        fault = Fault(service, operation, code, status, times, lost_response)
        self.active.append(fault)
        if id(client) not in self._hooked:
            self._hooked.add(id(client))
            # botocore calls every before-send handler and uses the first answer: ours runs
            # first; moto's (at the root) runs after unless we switch it off for this request,
            # and the last hook (after moto's) switches it back on.
            client.meta.events.register_first(
                f"before-send.{client.meta.service_model.service_id.hyphenize()}", self._hook)
            client.meta.events.register_last("before-send", self._restore)
        return fault

    def clear(self) -> None:
        self.active.clear()

    def _hook(self, request: Any, **kwargs: Any) -> AWSResponse | None:
        model = kwargs.get("model") or getattr(request, "context", {}).get("operation_model")
        event_name = kwargs.get("event_name", "")
        operation = model.name if model is not None else event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            for fault in self.active:
                if fault.operation == operation and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    if not fault.lost_response:
                        _moto_stubber().enabled = False  # rejected: never reaches the service
                    status, headers, body = error_response(fault.service, fault.code, fault.status)
                    return AWSResponse(request.url, status, headers, _Raw(body))
        return None


    def _restore(self, **_: Any) -> None:
        _moto_stubber().enabled = True


def _moto_stubber() -> Any:
    from moto.core.models import botocore_stubber

    return botocore_stubber


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    # Lambda's default retries, bounded so a permanent fault fails in well under a second.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    return Faults()


class AsyncLambda:
    """Lambda's asynchronous invocation as configured in template.yaml: retries, then the DLQ."""

    def __init__(self, stack: dict[str, Any], logical_id: str) -> None:
        self.stack = stack
        self.logical_id = logical_id
        self.functions = LocalFunctions(stack["template"])
        props = stack["template"].of_type("AWS::Serverless::Function")[logical_id]["Properties"]
        config = props["EventInvokeConfig"]
        self.retries = int(config["MaximumRetryAttempts"])
        queue = config["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"]
        self.queue = (queue.split(".") if isinstance(queue, str) else queue)[0]
        self.sqs = stack["client"]("sqs")
        self.queue_url = self.sqs.get_queue_url(QueueName=self.queue)["QueueUrl"]

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.functions.handler(self.logical_id)(event, LambdaContext(function_name=self.logical_id))

    def deliver(self, event: dict[str, Any]) -> Any:
        error: Exception | None = None
        for _ in range(1 + self.retries):
            try:
                return self.invoke(event)
            except Exception as exc:  # noqa: BLE001 - what Lambda does with a failed attempt
                error = exc
        assert error is not None
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({
            "version": "1.0", "requestContext": {"condition": "RetriesExhausted",
                                                 "approximateInvokeCount": 1 + self.retries},
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)[:500]},
        }))
        return None


def put_mail(stack: dict[str, Any], raw: bytes, ses_id: str) -> dict[str, Any]:
    """SES's S3 action: the raw mail under the rule's prefix; returns the Lambda action's event."""
    stack["client"]("s3").put_object(Bucket=stack["env"]["DESKINTAKE_RAW_BUCKET"],
                                     Key=f"inbound/{ses_id}", Body=raw)
    return ses_event(ses_id, timestamp=NOW, source="customer@example.net",
                     recipients=["info@support.localhost"])


def scan(stack: dict[str, Any]) -> list[dict[str, Any]]:
    ddb = stack["client"]("dynamodb")
    out: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=stack["env"]["DESKINTAKE_TABLE"]):
        out.extend(from_attrs(i) for i in page["Items"])
    return out


def tickets(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in scan(stack) if i["pk"].startswith("T#") and i["sk"] == "T"]


def inbound_messages(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in scan(stack) if i["pk"].startswith("T#") and i["sk"].startswith("M#")
            and i.get("direction") == "in"]


def queue_depth(stack: dict[str, Any], queue: str) -> int:
    sqs = stack["client"]("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                   "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


@contextlib.contextmanager
def fresh_stack() -> Iterator[dict[str, Any]]:
    """moto with template.yaml's resources, like tests.conftest.moto_stack, usable twice a test."""
    import boto3
    from deskintake.local.aws import create_template_resources
    from deskintake.local.stack import LOCAL_SUPPORT_ADDRESS
    from deskintake.local.template import LocalTemplate
    from deskintake.runtime import chat_wiring, follow_up_wiring, wiring
    from moto import mock_aws

    template = LocalTemplate.load(ROOT / "template.yaml", SupportAddress=LOCAL_SUPPORT_ADDRESS)
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "ap-southeast-1",
                           "AWS_REGION": "ap-southeast-1"}.items():
            mp.setenv(key, value)
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        mp.delenv("AWS_PROFILE", raising=False)
        create_template_resources(template, lambda s: boto3.client(s, region_name="ap-southeast-1"),
                                  verified_senders=[LOCAL_SUPPORT_ADDRESS])
        env = template.function_env()
        for key, value in env.items():
            mp.setenv(key, value)
        _clear(wiring, chat_wiring, follow_up_wiring)
        try:
            yield {"template": template, "env": env,
                   "client": lambda s: boto3.client(s, region_name="ap-southeast-1")}
        finally:
            _clear(wiring, chat_wiring, follow_up_wiring)


def _clear(*modules: Any) -> None:
    for module in modules:
        for name in dir(module):
            fn = getattr(module, name)
            if hasattr(fn, "cache_clear"):
                fn.cache_clear()
