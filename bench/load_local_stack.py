"""Bounded load test of the local stack: concurrent signed webhooks and SMTP mails, loopback only.

Starts `deskintake serve --no-demo` in a temporary state folder on ports 185xx, sends
--webhooks signed chat webhooks (WhatsApp, Telegram, live chat; one customer each) and --mails
mails over SMTP with --workers threads, then reads the table and checks that every message
sent became exactly one stored inbound message. Prints throughput; exits 1 on any loss or
duplicate. `make load` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def start(state: Path, http: int, smtp: int, aws: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESKINTAKE_", "AWS_"))}
    log = (state.parent / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "deskintake.cli", "serve", "--state-dir", str(state), "--no-demo",
         "--http-port", str(http), "--smtp-port", str(smtp), "--aws-port", str(aws)],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit((state.parent / "serve.log").read_text()[-2000:])
        try:
            with urllib.request.urlopen(f"http://{HOST}:{http}/health", timeout=2) as r:
                if r.status == 200 and (state / "stack.json").exists():
                    return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the local stack did not start within 120 s")


def post_webhook(http: int, index: int, secrets: dict[str, str]) -> str:
    from deskintake.commands.chat_send import build_request

    platform = ("whatsapp", "telegram", "livechat")[index % 3]
    sender = {"whatsapp": f"62812{index:08d}", "telegram": f"{700000000 + index}",
              "livechat": f"load{index}@example.com"}[platform]
    path, headers, body = build_request(platform, f"Saldo terpotong, pesanan nomor {index} belum masuk",
                                        sender=sender, message_id=f"load-{platform}-{index}",
                                        secrets_env=secrets)
    request = urllib.request.Request(f"http://{HOST}:{http}{path}", data=body, method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    assert response.status == 200 and answer["tickets"], answer
    return f"{platform}:{index}"


def send_mail(smtp: int, index: int) -> str:
    mail = EmailMessage()
    mail["From"] = f"Customer {index} <load{index}@mail.example.net>"
    mail["To"] = "info@support.localhost"
    mail["Subject"] = f"Pulsa belum masuk #{index}"
    mail["Message-ID"] = f"<load-mail-{index}@mail.example.net>"
    mail.set_content(f"Saya sudah bayar pesanan {index} tapi pulsa belum masuk.")
    with smtplib.SMTP(HOST, smtp, timeout=60) as client:
        client.send_message(mail)
    return f"email:{index}"


def stored_inbound(info: dict[str, Any]) -> list[dict[str, Any]]:
    import boto3
    from deskintake.adapters._dynamo import from_attrs

    ddb = boto3.client("dynamodb", endpoint_url=info["aws_endpoint"], region_name="ap-southeast-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=info["env"]["DESKINTAKE_TABLE"]):
        items.extend(from_attrs(i) for i in page["Items"]
                     if i["sk"]["S"].startswith("M#") and i.get("direction", {}).get("S") == "in")
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=120)
    parser.add_argument("--mails", type=int, default=60)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--time-limit", type=float, default=300, help="seconds for the sending phase")
    parser.add_argument("--port-base", type=int, default=18500, help="http +80, smtp +25, aws +66")
    args = parser.parse_args()

    from deskintake.local.stack import local_secrets

    http, smtp, aws = args.port_base + 80, args.port_base + 25, args.port_base + 66
    with tempfile.TemporaryDirectory(prefix="deskintake-load-") as tmp:
        state = Path(tmp) / "state"
        process = start(state, http, smtp, aws)
        try:
            info = json.loads((state / "stack.json").read_text())
            secrets = {**local_secrets(), **{k: v for k, v in info.get("env", {}).items()
                                             if k in local_secrets()}}
            started = time.monotonic()
            errors: list[str] = []
            with ThreadPoolExecutor(args.workers) as pool:
                futures = [pool.submit(post_webhook, http, i, secrets) for i in range(args.webhooks)]
                futures += [pool.submit(send_mail, smtp, i) for i in range(args.mails)]
                for future in futures:
                    remaining = args.time_limit - (time.monotonic() - started)
                    try:
                        future.result(timeout=max(remaining, 0.1))
                    except Exception as exc:  # noqa: BLE001 - counted and reported
                        errors.append(f"{type(exc).__name__}: {exc}"[:200])
            elapsed = time.monotonic() - started
            inbound = stored_inbound(info)
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
    sent = args.webhooks + args.mails
    by_external: dict[str, int] = {}
    for message in inbound:
        by_external[f"{message['channel']}:{message['external_id']}"] = (
            by_external.get(f"{message['channel']}:{message['external_id']}", 0) + 1)
    duplicates = {k: n for k, n in by_external.items() if n > 1}
    report = {
        "sent": sent, "webhooks": args.webhooks, "mails": args.mails, "workers": args.workers,
        "seconds": round(elapsed, 2), "messages_per_second": round(sent / elapsed, 1),
        "stored_inbound": len(inbound), "distinct_external_ids": len(by_external),
        "duplicates": len(duplicates), "errors": len(errors), "first_errors": errors[:5],
    }
    print(json.dumps(report))
    ok = not errors and not duplicates and len(by_external) == sent == len(inbound)
    print("OK: every message became exactly one stored message" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
