"""Dependencies of the chat webhook function, and where its secrets come from.

Secrets (and the two platform settings beside them, the WhatsApp phone number id and the
widget's callback URL): in the cloud from SSM Parameter Store (SecureString, via Powertools
parameters with a five-minute cache), named by DESKINTAKE_<NAME>_PARAM. When DESKINTAKE_<NAME>
itself is set, or on the local stack (DESKINTAKE_LOCAL=1), from the environment. Never from the
repository. Platform base URLs are plain environment (tests point them at a fake platform).
"""

from __future__ import annotations

import functools
import os
from typing import Any

from pydantic import Field

from deskintake.domain.errors import TransientError
from deskintake.domain.model import Channel
from deskintake.runtime.env import CoreEnv, load

SECRET_NAMES = (
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "TELEGRAM_SECRET_TOKEN",
    "TELEGRAM_BOT_TOKEN",
    "LIVECHAT_SECRET",
    "LIVECHAT_CALLBACK_URL",
)
SECRET_CACHE_SECONDS = 300
MAX_BODY_BYTES = 256 * 1024


class ChatEnv(CoreEnv):
    ack_enabled: bool = Field(alias="DESKINTAKE_ACK_ENABLED", default=True)
    ack_limit_per_hour: int = Field(alias="DESKINTAKE_ACK_LIMIT_PER_HOUR", default=3, ge=0)
    max_body_bytes: int = Field(
        alias="DESKINTAKE_CHAT_MAX_BODY_BYTES", default=MAX_BODY_BYTES, gt=0
    )
    local: bool = Field(alias="DESKINTAKE_LOCAL", default=False)
    whatsapp_api_base: str = Field(alias="DESKINTAKE_WHATSAPP_API_BASE", default="")
    whatsapp_api_version: str = Field(alias="DESKINTAKE_WHATSAPP_API_VERSION", default="v21.0")
    telegram_api_base: str = Field(alias="DESKINTAKE_TELEGRAM_API_BASE", default="")


def secret(name: str) -> str | None:
    """The secret DESKINTAKE_<name>: from the environment when set or local, else from SSM."""
    env_name = f"DESKINTAKE_{name}"
    if value := os.environ.get(env_name):
        return value
    if os.environ.get("DESKINTAKE_LOCAL") == "1":
        return None
    parameter = os.environ.get(f"{env_name}_PARAM")
    if not parameter:
        return None
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        fetched = parameters.get_parameter(parameter, decrypt=True, max_age=SECRET_CACHE_SECONDS)
    except GetParameterError as exc:
        if "ParameterNotFound" in str(exc):
            return None  # not configured: webhooks fail closed (401), optional settings are off
        raise TransientError(f"cannot read SSM parameter for {name}") from exc
    return str(fetched) if fetched else None


def chat_env() -> ChatEnv:
    return load(ChatEnv)


def chat_deps() -> tuple[ChatEnv, Any]:
    """(env, ChatIntakeDeps), built once per distinct configuration (the environment is the key)."""
    env = chat_env()
    return env, _deps(env.model_dump_json(by_alias=True))


@functools.cache
def _deps(env_json: str) -> Any:
    from deskintake.adapters.dynamodb_ops import DynamoFailureLog
    from deskintake.adapters.s3_raw import S3RawStore
    from deskintake.runtime.wiring import client, intake_core
    from deskintake.services.chat_intake import ChatIntakeDeps
    from deskintake.services.intake import IntakeSettings

    env = ChatEnv.model_validate_json(env_json)
    core = intake_core(env.table, env.event_bus, senders=senders(env), settings=IntakeSettings(
        ack_enabled=env.ack_enabled, ack_limit_per_hour=env.ack_limit_per_hour))
    return ChatIntakeDeps(intake=core, raw=S3RawStore(client("s3"), env.raw_bucket),
                          failures=DynamoFailureLog(client("dynamodb"), env.table))


def senders(env: ChatEnv) -> dict[Channel, Any]:
    """A sender per chat channel; on the local stack without a platform URL, a logging sink."""
    from deskintake.adapters.chat_senders import (
        LivechatSender,
        LocalSinkSender,
        TelegramSender,
        WhatsAppSender,
    )

    out: dict[Channel, Any] = {}
    if env.whatsapp_api_base or not env.local:
        out[Channel.WHATSAPP] = WhatsAppSender(
            base_url=env.whatsapp_api_base or "https://graph.facebook.com",
            api_version=env.whatsapp_api_version,
            phone_number_id=functools.partial(secret, "WHATSAPP_PHONE_NUMBER_ID"),
            access_token=functools.partial(secret, "WHATSAPP_ACCESS_TOKEN"),
        )
    else:
        out[Channel.WHATSAPP] = LocalSinkSender("whatsapp")
    if env.telegram_api_base or not env.local:
        out[Channel.TELEGRAM] = TelegramSender(
            base_url=env.telegram_api_base or "https://api.telegram.org",
            bot_token=functools.partial(secret, "TELEGRAM_BOT_TOKEN"),
        )
    else:
        out[Channel.TELEGRAM] = LocalSinkSender("telegram")
    out[Channel.LIVECHAT] = LivechatSender(
        callback_url=functools.partial(secret, "LIVECHAT_CALLBACK_URL"),
        secret=functools.partial(secret, "LIVECHAT_SECRET"),
    )
    return out
