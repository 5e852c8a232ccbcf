"""Who is calling the agents' API: Cognito claims in the cloud, a bearer token locally.

In the cloud the HTTP API's JWT authorizer has already verified the token (signature, issuer,
audience, expiry) before the function runs; the handler only reads the verified claims. The
local stack has no Cognito: `DESKINTAKE_LOCAL=1` switches to bearer tokens compared in
constant time: `DESKINTAKE_API_TOKEN` (printed by `make run`) is the admin, who sees every brand;
the users file (`DESKINTAKE_USERS_FILE`, JSON: [{"id", "name", "token", "brands": [...]}]) gives
each local agent a token and the brands they work for.

Brands: an agent sees the brands named by their groups (Cognito `cognito:groups`, group name =
brand id; the group "admin" sees every brand).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCAL_AGENT = "agent@local"
ADMIN_GROUP = "admin"


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
    users_file: str = ""


def settings_from(environ: Mapping[str, str]) -> AuthSettings:
    return AuthSettings(local=environ.get("DESKINTAKE_LOCAL") == "1",
                        token=environ.get("DESKINTAKE_API_TOKEN", ""),
                        users_file=environ.get("DESKINTAKE_USERS_FILE", ""))


def authenticate(event: Mapping[str, Any], settings: AuthSettings) -> Agent:
    """The calling agent, or AuthError."""
    if settings.local:
        return _local_agent(event, settings.token, settings.users_file)
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


def _local_agent(event: Mapping[str, Any], token: str, users_file: str = "") -> Agent:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    scheme, _, presented = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented or not (token or users_file):
        raise AuthError("bearer token required")
    offered = presented.strip().encode()
    if token and hmac.compare_digest(offered, token.encode()):
        return Agent(id=LOCAL_AGENT, name="Local agent", groups=(ADMIN_GROUP,))
    found = None
    for user in local_users(users_file):
        # Every entry is compared (no early exit): timing does not tell which user matched.
        if hmac.compare_digest(offered, str(user.get("token", "")).encode()) and user.get("token"):
            found = user
    if found is None:
        raise AuthError("wrong token")
    groups = tuple(str(b) for b in found.get("brands") or ())
    if found.get("admin") is True:
        groups += (ADMIN_GROUP,)
    return Agent(id=str(found.get("id") or LOCAL_AGENT), name=str(found.get("name") or found.get("id")),
                 groups=groups)


def local_users(path: str) -> list[dict[str, Any]]:
    """The local users file's entries; none when there is no file."""
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    users = data.get("users", data) if isinstance(data, dict) else data
    return [u for u in users if isinstance(u, dict)] if isinstance(users, list) else []
