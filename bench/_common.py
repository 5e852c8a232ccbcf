"""Helpers shared by the benchmarks: fresh interpreters, the functions' environment, summaries.

Not a benchmark itself (make bench runs bench/bench_*.py only).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "layers" / "core" / "python"
FUNCTIONS = ("EmailIntakeFunction", "ChatWebhookFunction", "FollowUpFunction", "TicketsApiFunction")


def compile_bytecode() -> None:
    """Write ordinary .pyc for the package and the handlers, as a deployed layer would have.

    The development environment may set PYTHONDONTWRITEBYTECODE, which would leave every
    fresh interpreter compiling our modules from source: not what Lambda runs when the layer
    is built with `compileall --invalidation-mode unchecked-hash` (layers/core/Makefile).
    """
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(PACKAGE / "deskintake"), str(ROOT / "functions")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def function_env(logical_id: str | None = None) -> dict[str, str]:
    """The environment template.yaml gives a function (resolved to local names), plus fakes.

    Credentials reach nothing; no benchmark here talks to AWS except through moto.
    """
    from deskintake.local.stack import LOCAL_SUPPORT_ADDRESS, local_secrets
    from deskintake.local.template import LocalTemplate

    template = LocalTemplate.load(ROOT / "template.yaml", SupportAddress=LOCAL_SUPPORT_ADDRESS)
    env = dict(os.environ)
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("AWS_PROFILE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(template.function_env(logical_id))
    env.update(local_secrets())
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "ap-southeast-1",
            "AWS_REGION": "ap-southeast-1",
            "POWERTOOLS_METRICS_NAMESPACE": "DeskIntake",
        }
    )
    return env


def fresh(code: str, *, env: dict[str, str] | None = None, args: list[str] | None = None) -> Any:
    """Run `code` in a fresh interpreter and return the JSON it prints on its last line."""
    out = subprocess.run(
        [sys.executable, *(args or []), "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def stats(values: list[float]) -> tuple[float, float]:
    """(median, min)."""
    return statistics.median(values), min(values)


def ms(x: float) -> str:
    return f"{x * 1000:7.1f} ms"
