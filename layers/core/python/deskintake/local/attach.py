"""Lets a command talk to a running local stack: reads the state folder's stack.json."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from deskintake.local.aws import point_boto3_at


def stack_info(state_dir: Path | None = None) -> dict[str, Any]:
    from deskintake.local.stack import project_root

    folder = state_dir or Path(os.environ.get("DESKINTAKE_STATE_DIR", project_root() / ".state"))
    path = folder / "stack.json"
    if not path.exists():
        raise SystemExit(f"no local stack state in {folder}: start it with `make run`")
    info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return info


def attach(state_dir: Path | None = None) -> dict[str, Any]:
    """Point this process's boto3 and environment at the local stack (unless already set)."""
    info = stack_info(state_dir)
    if "DESKINTAKE_TABLE" not in os.environ:
        os.environ.update(info["env"])
        point_boto3_at(info["aws_endpoint"])
    return info
