"""Replay the dead-letter queues (email intake, follow-ups) through the same handlers.

Every SQS queue that template.yaml names as a function's on-failure destination is drained
into that function: a Lambda on-failure record carries the original event under
`requestPayload`; a Scheduler dead letter carries the schedule's input (the local clock wraps it
as `{"input": ...}`). A message is deleted only after its handler returned; a handler that
raises leaves it in the queue (visible again after the visibility timeout), so nothing is lost.
The handlers are idempotent (mail by Message-ID, follow-ups by their key), so replaying an event
that had in fact been filed makes nothing twice.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BATCH = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", action="append", default=[], metavar="LOGICAL_ID",
                        help="only this dead-letter queue (template logical id); repeatable")
    parser.add_argument("--queue-url", action="append", default=[], metavar="LOGICAL_ID=URL",
                        help="the queue's URL in the cloud (default: looked up by its local name)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    parser.add_argument("--max", type=int, default=1000, help="at most this many per queue")
    parser.add_argument("--visibility", type=int, default=120,
                        help="seconds a message stays hidden while it is replayed")


@dataclass(frozen=True)
class DeadLetterRoute:
    queue: str  # logical id of the SQS queue
    function: str  # logical id of the function whose failures it keeps


def routes(template: Any) -> list[DeadLetterRoute]:
    """(queue, function) for every function whose on-failure destination is a template queue."""
    found = []
    for name, resource in sorted(template.of_type("AWS::Serverless::Function").items()):
        config = (resource.get("Properties") or {}).get("EventInvokeConfig") or {}
        target = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        queue = _getatt_arn(target)
        if queue and queue in template.of_type("AWS::SQS::Queue"):
            found.append(DeadLetterRoute(queue=queue, function=name))
    return found


def _getatt_arn(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        ref = value["Fn::GetAtt"]
        parts = ref.split(".") if isinstance(ref, str) else list(ref)
        if len(parts) == 2 and parts[1] == "Arn":
            return str(parts[0])
    return None


def original_event(body: str) -> dict[str, Any]:
    """The event the failed invocation received, from a dead-letter message body."""
    record = json.loads(body)
    if not isinstance(record, dict):
        raise ValueError("dead letter is not a JSON object")
    for key in ("requestPayload", "input"):  # Lambda destination record; local clock's wrapper
        if isinstance(record.get(key), dict):
            return dict(record[key])
    return record  # EventBridge Scheduler: the body is the target input itself


@dataclass
class RedriveResult:
    replayed: int = 0
    failed: int = 0
    unreadable: int = 0


def drain(sqs: Any, queue_url: str, invoke: Callable[[dict[str, Any]], Any], *,
          limit: int = 1000, visibility: int = 120, dry_run: bool = False,
          report: Callable[[dict[str, Any]], None] = lambda _: None) -> RedriveResult:
    """Replay up to `limit` messages of one queue; delete each only after `invoke` returned."""
    result = RedriveResult()
    seen: set[str] = set()
    for message in _receive(sqs, queue_url, limit=limit, visibility=visibility):
        if message["MessageId"] in seen:
            continue  # a message we already failed on came back: stop rather than loop
        seen.add(message["MessageId"])
        try:
            event = original_event(message["Body"])
        except ValueError as exc:  # includes JSONDecodeError
            # Kept in the queue: a person has to look at it; never deleted unread.
            result.unreadable += 1
            report({"message_id": message["MessageId"], "status": "unreadable", "error": str(exc)})
            continue
        if dry_run:
            report({"message_id": message["MessageId"], "status": "would replay", "event": event})
            continue
        try:
            outcome = invoke(event)
        except Exception as exc:  # noqa: BLE001 - it stays in the queue for the next redrive
            result.failed += 1
            report({"message_id": message["MessageId"], "status": "failed",
                    "error": f"{type(exc).__name__}: {exc}"[:500]})
            continue
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        result.replayed += 1
        report({"message_id": message["MessageId"], "status": "replayed", "outcome": outcome})
    return result


def _receive(sqs: Any, queue_url: str, *, limit: int, visibility: int) -> Iterator[dict[str, Any]]:
    taken = 0
    while taken < limit:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=min(_BATCH, limit - taken),
                                       VisibilityTimeout=visibility, WaitTimeSeconds=0)
        messages = response.get("Messages") or []
        if not messages:
            return
        for message in messages:
            taken += 1
            yield message


def run(args: argparse.Namespace) -> int:
    from deskintake.local.template import LocalTemplate

    if os.environ.get("DESKINTAKE_TABLE") is None:
        from deskintake.local.attach import attach

        attach()
    from deskintake.local.functions import LocalFunctions
    from deskintake.local.stack import LOCAL_SUPPORT_ADDRESS, project_root
    from deskintake.runtime.wiring import client

    template = LocalTemplate.load(Path(project_root()) / "template.yaml",
                                  SupportAddress=os.environ.get("DESKINTAKE_SENDER",
                                                                LOCAL_SUPPORT_ADDRESS))
    urls = dict(item.split("=", 1) for item in args.queue_url)
    chosen = [r for r in routes(template) if not args.queue or r.queue in args.queue]
    if not chosen:
        print(json.dumps({"error": "no dead-letter queue matches", "known": [r.queue for r in routes(template)]}))
        return 2
    functions = LocalFunctions(template)
    sqs = client("sqs")
    trouble = 0
    for route in chosen:
        url = urls.get(route.queue) or sqs.get_queue_url(QueueName=route.queue)["QueueUrl"]
        result = drain(sqs, url, _invoker(functions, route.function), limit=args.max,
                       visibility=args.visibility, dry_run=args.dry_run,
                       report=_reporter(route.queue))
        print(json.dumps({"queue": route.queue, "function": route.function,
                          "replayed": result.replayed, "failed": result.failed,
                          "unreadable": result.unreadable}))
        trouble += result.failed + result.unreadable
    return 1 if trouble else 0


def _invoker(functions: Any, logical_id: str) -> Callable[[dict[str, Any]], Any]:
    return lambda event: functions.invoke(logical_id, event)


def _reporter(queue: str) -> Callable[[dict[str, Any]], None]:
    return lambda line: print(json.dumps({"queue": queue, **line}, default=str))
