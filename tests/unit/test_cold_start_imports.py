"""What the functions' cold start leaves out, without changing what they can use.

Each check runs in a fresh interpreter: which modules are loaded is process-wide state.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, cwd=ROOT, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_the_http_resolver_loads_without_the_other_powertools_resolvers() -> None:
    out = run("""
        import sys
        from deskintake.runtime.wiring import defer_event_handler_init
        defer_event_handler_init()
        from aws_lambda_powertools.event_handler import content_types
        from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver
        app = APIGatewayHttpResolver()
        print("appsync" if "aws_lambda_powertools.event_handler.appsync" in sys.modules else "-",
              "asyncio" if "asyncio" in sys.modules else "-", content_types.APPLICATION_JSON)
    """)
    assert out == "- - application/json"


def test_every_name_of_the_event_handler_package_still_imports_afterwards() -> None:
    # The local stack loads the chat handler and the tickets API (which imports from the
    # package itself) into one process.
    out = run("""
        from deskintake.runtime.wiring import defer_event_handler_init
        defer_event_handler_init()
        from aws_lambda_powertools.event_handler.api_gateway import Response
        from aws_lambda_powertools.event_handler import AppSyncResolver, Response as Again
        import aws_lambda_powertools.event_handler as package
        try:
            package.no_such_name
        except AttributeError:
            missing = "AttributeError"
        print(AppSyncResolver.__name__, Again is Response, missing)
    """)
    assert out == "AppSyncResolver True AttributeError"


def test_the_chat_function_imports_no_appsync_resolver() -> None:
    out = run("""
        import importlib.util, sys
        path = "functions/chat_webhook/handler.py"
        spec = importlib.util.spec_from_file_location("handler", path)
        handler = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(handler)
        print(sorted(m for m in ("asyncio", "aws_lambda_powertools.event_handler.appsync",
                                 "aws_lambda_powertools.event_handler.bedrock_agent")
                     if m in sys.modules))
    """)
    assert out == "[]"


def test_the_chat_resolver_is_built_once_per_thread() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "chat_handler_resolver_test", ROOT / "functions" / "chat_webhook" / "handler.py")
    assert spec is not None and spec.loader is not None
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(handler.resolver()))
    thread.start()
    thread.join()
    assert handler.resolver() is handler.resolver()
    assert other[0] is not handler.resolver()  # never one resolver for two concurrent requests
