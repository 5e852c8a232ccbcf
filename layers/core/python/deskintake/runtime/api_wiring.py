"""Builds the agents' API dependencies once per cold start (lazily, after the env is set)."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field

from deskintake.domain.model import Channel
from deskintake.runtime.auth import AuthSettings, settings_from
from deskintake.runtime.env import CoreEnv, load
from deskintake.runtime.wiring import LazyClient, client, follow_ups

log = logging.getLogger(__name__)


class TicketsApiEnv(CoreEnv):
    sender: str = Field(alias="DESKINTAKE_SENDER", default="info@support.localhost")
    sender_name: str = Field(alias="DESKINTAKE_SENDER_NAME", default="Customer Support")
    brand: str = Field(alias="DESKINTAKE_BRAND", default="default")


@functools.cache
def auth_settings() -> AuthSettings:
    return settings_from(os.environ)


@functools.cache
def tickets_deps() -> Any:
    from deskintake.adapters.dynamodb_queries import DynamoCorrections, DynamoTicketQueries
    from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
    from deskintake.adapters.eventbridge_events import EventBridgePublisher
    from deskintake.adapters.ses_sender import SesEmailSender
    from deskintake.runtime.follow_up_wiring import sla_policy
    from deskintake.services.tickets import TicketsDeps

    env = load(TicketsApiEnv)
    db = client("dynamodb")
    senders: dict[Channel, Any] = {
        # SES and EventBridge on first use: most requests (the dashboard's lists, counts, a
        # ticket) only read, and each client costs 40-50 ms of a cold start to build.
        Channel.EMAIL: SesEmailSender(LazyClient("ses"), sender=env.sender,
                                      sender_name=env.sender_name),
        **chat_senders(),
    }
    return TicketsDeps(
        tickets=DynamoTicketRepository(db, env.table),
        queries=DynamoTicketQueries(db, env.table),
        corrections=DynamoCorrections(db, env.table),
        events=EventBridgePublisher(LazyClient("events"), env.event_bus),
        senders=senders,
        follow_ups=follow_ups(),
        scheduled=scheduled_lister(),
        sla_config=sla_policy(),
        brand=env.brand,
    )


def chat_senders() -> Mapping[Channel, Any]:
    """WhatsApp / Telegram / live-chat senders, configured as the chat webhooks' are."""
    try:
        from deskintake.runtime.chat_wiring import chat_env, senders
    except ImportError:
        return {}
    return senders(chat_env())


def scheduled_lister() -> Callable[[Any], list[dict[str, Any]]] | None:
    """The follow-up planner's view of a ticket's scheduled follow-ups, when it offers one."""
    try:
        from deskintake.runtime import follow_up_wiring
    except ImportError:
        return None
    lister = getattr(follow_up_wiring, "scheduled_follow_ups", None)
    return lister if callable(lister) else None
