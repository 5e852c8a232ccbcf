"""Builds the follow-up service from the environment, once per cold start and lazily.

Intake functions only plan (`follow_ups()`: store, scheduler, no senders); the follow-up
function also acts (`follow_up_deps()`: senders for every channel). Without the scheduler
settings in the environment, follow-ups are switched off rather than failing intake.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from pydantic import Field

from deskintake.runtime.env import CoreEnv, load

log = logging.getLogger(__name__)


class FollowUpEnv(CoreEnv):
    schedule_group: str = Field(alias="DESKINTAKE_SCHEDULE_GROUP", default="")
    scheduler_role_arn: str = Field(alias="DESKINTAKE_SCHEDULER_ROLE_ARN", default="")
    follow_up_arn: str = Field(alias="DESKINTAKE_FOLLOW_UP_ARN", default="")
    dead_letter_arn: str = Field(alias="DESKINTAKE_FOLLOW_UP_DLQ_ARN", default="")
    config_path: str = Field(alias="DESKINTAKE_FOLLOW_UP_CONFIG", default="")
    brands: str = Field(alias="DESKINTAKE_BRANDS", default="default")
    sender: str = Field(alias="DESKINTAKE_SENDER", default="info@support.localhost")
    sender_name: str = Field(alias="DESKINTAKE_SENDER_NAME", default="Customer Support")
    local: bool = Field(alias="DESKINTAKE_LOCAL", default=False)

    @property
    def configured(self) -> bool:
        return bool(self.schedule_group and self.scheduler_role_arn and self.follow_up_arn)


class _LazyClient:
    """A boto3 client made on first use: intake's cold start does not pay for it up front."""

    def __init__(self, service: str) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        from deskintake.runtime.wiring import client

        return getattr(client(self._service), name)


def follow_up_env() -> FollowUpEnv:
    return load(FollowUpEnv)


def _deps(env: FollowUpEnv, *, senders: dict[Any, Any]) -> Any:
    from deskintake.adapters.dynamodb_follow_ups import DynamoFollowUpStore
    from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository
    from deskintake.adapters.eventbridge_events import EventBridgePublisher
    from deskintake.adapters.eventbridge_scheduler import EventBridgeFollowUpScheduler
    from deskintake.domain.follow_up_policy import load_config
    from deskintake.services.follow_up import FollowUpDeps

    config = load_config(env.config_path or None)
    db = _LazyClient("dynamodb")
    scheduler = EventBridgeFollowUpScheduler(
        _LazyClient("scheduler"), group=env.schedule_group, target_arn=env.follow_up_arn,
        role_arn=env.scheduler_role_arn, dead_letter_arn=env.dead_letter_arn or None,
        timezone=config.business_hours.timezone)
    return FollowUpDeps(
        tickets=DynamoTicketRepository(db, env.table),
        store=DynamoFollowUpStore(db, env.table),
        scheduler=scheduler,
        events=EventBridgePublisher(_LazyClient("events"), env.event_bus),
        senders=senders,
        config=config,
        brands=tuple(b.strip() for b in env.brands.split(",") if b.strip()) or ("default",),
    )


def follow_ups() -> Any:
    """The FollowUps port for intake and the tickets API: plans and cancels, never sends."""
    return _planner(follow_up_env().model_dump_json(by_alias=True))


@functools.cache
def _planner(env_json: str) -> Any:
    from deskintake.ports import NoFollowUps
    from deskintake.services.follow_up import FollowUpService

    env = FollowUpEnv.model_validate_json(env_json)
    if not env.configured:
        log.warning("follow-ups are off: DESKINTAKE_SCHEDULE_GROUP / _SCHEDULER_ROLE_ARN / "
                    "_FOLLOW_UP_ARN not set")
        return NoFollowUps()
    return FollowUpService(_deps(env, senders={}))


def follow_up_deps() -> tuple[FollowUpEnv, Any]:
    """(env, FollowUpDeps) for the follow-up function: with a sender for every channel."""
    env = follow_up_env()
    return env, _acting(env.model_dump_json(by_alias=True))


@functools.cache
def _acting(env_json: str) -> Any:
    env = FollowUpEnv.model_validate_json(env_json)
    return _deps(env, senders=_senders(env))


def _senders(env: FollowUpEnv) -> dict[Any, Any]:
    from deskintake.adapters.ses_sender import SesEmailSender
    from deskintake.domain.model import Channel

    out: dict[Any, Any] = {}
    try:
        from deskintake.runtime.chat_wiring import chat_env, senders

        out.update(senders(chat_env()))
    except ImportError:
        pass
    out[Channel.EMAIL] = SesEmailSender(_LazyClient("ses"), sender=env.sender,
                                        sender_name=env.sender_name)
    return out


def follow_up_store() -> Any:
    """The follow-up bookkeeping alone: what the ticket detail view lists (one GetItem)."""
    from deskintake.adapters.dynamodb_follow_ups import DynamoFollowUpStore

    env = load(CoreEnv)
    return DynamoFollowUpStore(_LazyClient("dynamodb"), env.table)


def scheduled_follow_ups(ticket: Any) -> list[dict[str, Any]]:
    """A ticket's pending follow-ups (kind, due_at, key), soonest first: for the detail API."""
    from deskintake.services.follow_up import scheduled_for

    return scheduled_for(ticket.id, follow_up_store())


def sla_policy() -> Any:
    """Each brand's follow-up policy by brand id (its business hours, holidays and targets), so
    the tickets API times first responses as the planner does."""
    from deskintake.domain.brands import follow_up_config
    from deskintake.domain.follow_up_policy import load_config
    from deskintake.runtime.brands import active

    base = load_config(follow_up_env().config_path or None)
    return lambda brand: follow_up_config(base, active().get(brand))
