"""Builds the adapters once per cold start (lazily, so tests can set the environment first)."""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Mapping
from importlib.machinery import PathFinder
from typing import Any

from deskintake.domain.model import Channel, Classification, InboundMessage
from deskintake.runtime.env import EmailIntakeEnv, load


@functools.cache
def client(service: str) -> Any:
    import boto3  # boto3 honours AWS_ENDPOINT_URL, which the local stack sets

    return boto3.client(service)


def defer_event_handler_init() -> None:
    """Let a handler import Powertools' HTTP resolver without `event_handler/__init__.py`.

    Importing any submodule runs the package's __init__ first, and that one imports every
    resolver: AppSync (which pulls in asyncio), Bedrock, VPC Lattice... about 25 ms of CPU of a
    cold start that only needs `event_handler.api_gateway`. Here the package module is created
    without running its __init__, which runs instead on the first access to a name it defines
    (PEP 562 __getattr__), so `from aws_lambda_powertools.event_handler import X` keeps working
    anywhere in the process (the local stack loads every handler into one).
    """
    name = "aws_lambda_powertools.event_handler"
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader
    ran: list[bool] = []

    def __getattr__(attr: str) -> Any:  # the module hook of PEP 562
        # `from package import submodule` asks here first: let the import system find it.
        if not ran and not PathFinder.find_spec(f"{name}.{attr}", package.__path__):
            ran.append(True)
            loader.exec_module(package)
            if attr in package.__dict__:
                return package.__dict__[attr]
        raise AttributeError(f"module {name!r} has no attribute {attr!r}")

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = package


def provisioned() -> bool:
    """True when Lambda initialises this sandbox ahead of any request (provisioned concurrency).

    An on-demand cold start pays INIT and the first call back to back, so clients are built on
    first use and a message that needs fewer of them (a duplicate, a reply) pays less. A
    provisioned sandbox runs INIT before traffic arrives, so everything built there is off the
    request path: `prewarm` then builds all of it.
    """
    import os

    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency"


def prewarm(build: Any, *services: str) -> bool:
    """In a provisioned sandbox: run `build` (the function's dependencies), make the named
    clients and load the classifier, so the first request finds them ready."""
    if not provisioned():
        return False
    from deskintake.domain.classify import default_config, default_model

    build()
    for service in services:
        client(service)
    default_model(), default_config()
    return True


class LazyClient:
    """A boto3 client made on first use. Building one costs 40-50 ms of CPU (its service model is
    parsed), so a client that a message may not need (SES: only acknowledgements use it) is not
    built at cold start; replies, duplicates and spam never pay for it."""

    def __init__(self, service: str) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(client(self._service), name)


def classify_inbound(inbound: InboundMessage) -> Classification:
    """The classifier, fed what the intake knows about a message."""
    from deskintake.domain.classify import classify

    return classify(inbound.subject, inbound.text, channel=str(inbound.channel),
                    lang=str(inbound.lang), hint=inbound.category_hint,
                    spam_verdict=inbound.spam_verdict)


@functools.cache
def email_intake_deps() -> Any:
    from deskintake.adapters.dynamodb_ops import DynamoFailureLog
    from deskintake.adapters.s3_raw import S3RawStore
    from deskintake.adapters.ses_sender import SesEmailSender
    from deskintake.services.email_intake import EmailIntakeDeps
    from deskintake.services.intake import IntakeSettings

    env = load(EmailIntakeEnv)
    settings = IntakeSettings(support_address=env.sender, own_addresses=env.own(),
                              ack_enabled=env.ack_enabled, ack_limit_per_hour=env.ack_limit_per_hour)
    core = intake_core(env.table, env.event_bus, settings=settings,
                       senders={Channel.EMAIL: SesEmailSender(LazyClient("ses"), sender=env.sender,
                                                              sender_name=env.sender_name)})
    return env, EmailIntakeDeps(raw=S3RawStore(client("s3"), env.raw_bucket),
                                failures=DynamoFailureLog(client("dynamodb"), env.table), intake=core)


def intake_core(table: str, event_bus: str, *, senders: Mapping[Channel, Any],
                settings: Any) -> Any:
    """The intake's dependencies over AWS, shared by the email and chat functions."""
    from deskintake.adapters.dynamodb_ops import DynamoRateLimiter
    from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
    from deskintake.adapters.eventbridge_events import EventBridgePublisher
    from deskintake.services.intake import IntakeDeps

    db = client("dynamodb")
    return IntakeDeps(
        tickets=DynamoTicketRepository(db, table),
        classify=classify_inbound,
        events=EventBridgePublisher(client("events"), event_bus),
        limiter=DynamoRateLimiter(db, table),
        senders=senders,
        follow_ups=follow_ups(),
        settings=settings,
    )


def follow_ups() -> Any:
    """The follow-up planner when it is configured, else none."""
    try:
        from deskintake.runtime.follow_up_wiring import follow_ups as planner
    except ImportError:
        from deskintake.ports import NoFollowUps

        return NoFollowUps()
    return planner()
