"""Each function's environment, validated once at the edge (pydantic-settings is not needed)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T", bound=BaseModel)


class CoreEnv(BaseModel):
    """What every function needs. boto3 itself honours AWS_ENDPOINT_URL for the local stack."""

    table: str = Field(alias="DESKINTAKE_TABLE", min_length=1)
    raw_bucket: str = Field(alias="DESKINTAKE_RAW_BUCKET", min_length=1)
    event_bus: str = Field(alias="DESKINTAKE_EVENT_BUS", default="deskintake")
    region: str = Field(alias="AWS_REGION", default="ap-southeast-1")


class EmailIntakeEnv(CoreEnv):
    raw_prefix: str = Field(alias="DESKINTAKE_RAW_PREFIX", default="inbound/")
    sender: str = Field(alias="DESKINTAKE_SENDER", default="info@support.localhost")
    sender_name: str = Field(alias="DESKINTAKE_SENDER_NAME", default="Customer Support")
    own_addresses: str = Field(alias="DESKINTAKE_OWN_ADDRESSES", default="")
    ack_enabled: bool = Field(alias="DESKINTAKE_ACK_ENABLED", default=True)
    ack_limit_per_hour: int = Field(alias="DESKINTAKE_ACK_LIMIT_PER_HOUR", default=3, ge=0)

    def own(self) -> frozenset[str]:
        listed = {a.strip().lower() for a in self.own_addresses.split(",") if a.strip()}
        return frozenset(listed | {self.sender.lower()})


def load(model: type[T], environ: Mapping[str, str] | None = None) -> T:
    """Validate the environment into `model`; a missing variable fails loudly at cold start."""
    return model.model_validate(dict(environ if environ is not None else os.environ))
