"""Who is calling the agents' API: Cognito claims in the cloud, a bearer token locally.

In the cloud the HTTP API's JWT authorizer has already verified the token (signature, issuer,
audience, expiry) before the function runs; the handler only reads the verified claims. The
local stack has no Cognito: `DESKINTAKE_LOCAL=1` switches to one shared agent token
(`DESKINTAKE_API_TOKEN`, printed by `make run`), compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LOCAL_AGENT = "agent@local"


class AuthError(Exception):
    """The request carries no valid agent identity (HTTP 401)."""


@dataclass(frozen=True)
class Agent:
    id: str  # what the timeline and assignee fields record
    name: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthSettings:
    local: bool
    token: str = ""


def settings_from(environ: Mapping[str, str]) -> AuthSettings:
    return AuthSettings(local=environ.get("DESKINTAKE_LOCAL") == "1",
                        token=environ.get("DESKINTAKE_API_TOKEN", ""))


def authenticate(event: Mapping[str, Any], settings: AuthSettings) -> Agent:
    """The calling agent, or AuthError."""
    if settings.local:
        return _local_agent(event, settings.token)
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
    if not isinstance(claims, Mapping) or not claims.get("sub"):
        # Only reachable if a route lost its authorizer: fail closed.
        raise AuthError("no verified token")
    who = str(claims.get("email") or claims.get("cognito:username") or claims.get("username")
              or claims["sub"])
    groups = claims.get("cognito:groups") or ()
    if isinstance(groups, str):  # API Gateway flattens lists to "[a b]"
        groups = tuple(g for g in groups.strip("[]").replace(",", " ").split() if g)
    return Agent(id=who, name=str(claims.get("name") or who), groups=tuple(groups))


def _local_agent(event: Mapping[str, Any], token: str) -> Agent:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    scheme, _, presented = headers.get("authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer" or not presented:
        raise AuthError("bearer token required")
    if not hmac.compare_digest(presented.strip().encode(), token.encode()):
        raise AuthError("wrong token")
    return Agent(id=LOCAL_AGENT, name="Local agent")
