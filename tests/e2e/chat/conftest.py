"""A local stack whose chat senders talk to a fake platform server, and helpers to read it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chat.fake_platform import (
    LIVECHAT_SECRET,
    TG_TOKEN,
    WA_PHONE_ID,
    WA_TOKEN,
    FakePlatform,
)

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus" / "webhooks"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ChatStack:
    base_url: str
    state_dir: Path
    info: dict[str, Any]
    process: subprocess.Popen[bytes]
    fake: FakePlatform

    @property
    def env(self) -> dict[str, str]:
        return dict(self.info["env"])

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.info["aws_endpoint"],
            region_name="ap-southeast-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def repo(self) -> Any:
        from deskintake.adapters.dynamodb_tickets import DynamoTicketRepository

        return DynamoTicketRepository(self.client("dynamodb"), self.env["DESKINTAKE_TABLE"])

    def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            self.base_url + path,
            data=body,
            method="POST",
            headers={"content-type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        return status, json.loads(raw) if raw.strip().startswith((b"{", b"[")) else {
            "body": raw.decode()
        }

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def item_count(self) -> int:
        ddb = self.client("dynamodb")
        return sum(
            page["Count"]
            for page in ddb.get_paginator("scan").paginate(
                TableName=self.env["DESKINTAKE_TABLE"], Select="COUNT"
            )
        )

    def raw_keys(self) -> set[str]:
        s3 = self.client("s3")
        keys: set[str] = set()
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.env["DESKINTAKE_RAW_BUCKET"], Prefix="webhooks/"
        ):
            keys.update(o["Key"] for o in page.get("Contents", []))
        return keys


@pytest.fixture(scope="session")
def fake_platform() -> Iterator[FakePlatform]:
    fake = FakePlatform().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def chat_stack(
    tmp_path_factory: pytest.TempPathFactory, fake_platform: FakePlatform
) -> Iterator[ChatStack]:
    tmp = tmp_path_factory.mktemp("chatstack")
    ports = [_free_port() for _ in range(3)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESKINTAKE_", "AWS_"))}
    env.update(
        {
            "DESKINTAKE_WHATSAPP_API_BASE": fake_platform.base_url,
            "DESKINTAKE_WHATSAPP_ACCESS_TOKEN": WA_TOKEN,
            "DESKINTAKE_WHATSAPP_PHONE_NUMBER_ID": WA_PHONE_ID,
            "DESKINTAKE_TELEGRAM_API_BASE": fake_platform.base_url,
            "DESKINTAKE_TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "DESKINTAKE_LIVECHAT_SECRET": LIVECHAT_SECRET,
            "DESKINTAKE_LIVECHAT_CALLBACK_URL": fake_platform.base_url + "/livechat/callback",
        }
    )
    log = (tmp / "serve.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deskintake.cli",
            "serve",
            "--state-dir",
            str(tmp / "state"),
            "--http-port",
            str(ports[0]),
            "--smtp-port",
            str(ports[1]),
            "--aws-port",
            str(ports[2]),
            "--no-demo",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{ports[0]}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError("local stack exited: " + (tmp / "serve.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200 and (tmp / "state" / "stack.json").exists():
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("local stack did not become healthy")
        time.sleep(0.3)
    info = json.loads((tmp / "state" / "stack.json").read_text())
    stack = ChatStack(base, tmp / "state", info, process, fake_platform)
    yield stack
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
