"""The local stack as a user meets it: `deskintake serve` in its own process, on free ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class StackPorts:
    host: str
    http_port: int
    smtp_port: int
    aws_port: int


class LocalAwsClients:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name="ap-southeast-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")


@dataclass
class RunningStack:
    config: StackPorts
    state_dir: Path
    token: str
    info: dict[str, Any]
    process: subprocess.Popen[bytes]
    aws: LocalAwsClients

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.config.http_port}"

    def cli(self, *args: str, timeout: float = 120, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a `deskintake` command attached to this stack."""
        env = {**os.environ, "DESKINTAKE_STATE_DIR": str(self.state_dir)}
        for key in list(env):
            if key.startswith("DESKINTAKE_") and key != "DESKINTAKE_STATE_DIR" or key == "AWS_ENDPOINT_URL":
                env.pop(key)
        return subprocess.run([sys.executable, "-m", "deskintake.cli", *args], capture_output=True,
                              text=True, timeout=timeout, env=env, input=input, cwd=ROOT)

    def tickets(self) -> list[dict[str, Any]]:
        from deskintake.adapters._dynamo import from_attrs

        ddb = self.aws.client("dynamodb")
        items: list[dict[str, Any]] = []
        for page in ddb.get_paginator("scan").paginate(TableName=self.info["env"]["DESKINTAKE_TABLE"]):
            items.extend(from_attrs(i) for i in page["Items"] if i["sk"]["S"] == "T")
        return items

    def acknowledgement(self, ticket_id: str) -> str | None:
        """The platform id of the automatic acknowledgement sent on the ticket, if one was."""
        ddb = self.aws.client("dynamodb")
        page = ddb.query(TableName=self.info["env"]["DESKINTAKE_TABLE"],
                         KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
                         ExpressionAttributeValues={":pk": {"S": f"T#{ticket_id}"}, ":m": {"S": "M#"}})
        return next((i["external_id"]["S"] for i in page["Items"] if i.get("author", {}).get("S") == "system"
                     and i.get("delivery_status", {}).get("S") == "sent"), None)


def start_stack(tmp: Path, *, demo: bool = False) -> RunningStack:
    ports = StackPorts("127.0.0.1", free_port(), free_port(), free_port())
    state = tmp / "state"
    log = (tmp / "serve.log").open("wb")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DESKINTAKE_", "AWS_")) or k == "DESKINTAKE_ROOT"}
    args = [sys.executable, "-m", "deskintake.cli", "serve", "--state-dir", str(state),
            "--http-port", str(ports.http_port), "--smtp-port", str(ports.smtp_port),
            "--aws-port", str(ports.aws_port)]
    if not demo:
        args.append("--no-demo")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local stack exited: {(tmp / 'serve.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ports.http_port}/health", timeout=2) as r:
                if r.status == 200 and (state / "stack.json").exists():
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        raise RuntimeError("local stack did not become healthy within 120 s")
    info = json.loads((state / "stack.json").read_text())
    return RunningStack(ports, state, info["agent_token"], info, process,
                        LocalAwsClients(info["aws_endpoint"]))


def stop_stack(stack: RunningStack) -> None:
    stack.process.terminate()
    try:
        stack.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        stack.process.kill()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("stack"))
    yield stack
    stop_stack(stack)
