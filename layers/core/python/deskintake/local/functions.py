"""Invokes the real Lambda handlers of template.yaml in-process, as Lambda would."""

from __future__ import annotations

import importlib.util
import threading
import time
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from deskintake.local.template import ACCOUNT, REGION, LocalTemplate


@dataclass
class LambdaContext:
    """The attributes Powertools reads from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_seconds: int = 30
    _deadline: float = field(default_factory=lambda: time.monotonic() + 30)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalFunctions:
    def __init__(self, template: LocalTemplate) -> None:
        self.template = template
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()
        self._running: dict[str, threading.Lock] = {}

    def handler(self, logical_id: str) -> Any:
        with self._lock:
            module = self._modules.get(logical_id)
            if module is None:
                path, _ = self.template.handler_path(logical_id)
                spec = importlib.util.spec_from_file_location(f"deskintake_fn_{logical_id}", path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                self._modules[logical_id] = module
        _, func = self.template.handler_path(logical_id)
        return getattr(module, func)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """One event at a time per function, as in one Lambda execution environment.

        Handlers may keep per-request state in module globals (Powertools' resolver keeps the
        current route on the app object); Lambda never runs two events in one environment at
        once, and neither does the local stack.
        """
        handler = self.handler(logical_id)
        with self._lock:
            running = self._running.setdefault(logical_id, threading.Lock())
        with running:
            return handler(event, LambdaContext(function_name=logical_id))
