"""End-to-end messages per second on the local stack, through SMTP and the webhook gateway.

Usage: .venv/bin/python bench/bench_e2e.py [--n 200] [--seconds 20] [--port-base 18480]

Starts `deskintake serve --no-demo --no-clock` as a subprocess on loopback ports
port-base..port-base+2 with a temporary state dir, then sends up to --n mails over one SMTP
session (the stack answers 250 only after the email function has filed the mail, as SES invokes
it) and up to --n signed webhooks (WhatsApp, Telegram, live chat in turn) over HTTP, one at a
time and then from 4 threads. Each of the three phases stops after --seconds, so the whole run
stays under two minutes on a slow machine; rates count the messages actually sent. Baselines in the same run: an SMTP server that accepts and drops mail
(aiosmtpd, in this process), and GET /health on the same gateway (one moto call). At the end the
tickets in the table are counted, so a fast but lossy run cannot pass unnoticed.

The local stack runs moto, the gateway and every function in one Python process: these figures
compare versions of this code on one machine; Lambda scales out instead (see PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT  # noqa: E402

HOST = "127.0.0.1"
TEXTS = [
    "min pulsa sy blm masuk udh 1 jam, trx INV-230914-88213",
    "I was charged twice for order #5512399, please refund",
    "我的积分什么时候到账？订单号 20261121001",
    "kak saldo gopay kepotong tapi token pln blm muncul",
]


def start_stack(base: int, state: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "deskintake"), "serve", "--host", HOST,
         "--state-dir", str(state), "--http-port", str(base), "--smtp-port", str(base + 1),
         "--aws-port", str(base + 2), "--no-demo", "--no-clock"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"deskintake serve exited with {proc.returncode}")
        if (state / "stack.json").exists():
            try:
                conn = http.client.HTTPConnection(HOST, base, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return proc
            except OSError:
                pass
        time.sleep(0.5)
    stop(proc)
    raise SystemExit("the local stack did not come up within 90 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def mail(i: int, to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Customer {i} <customer{i}@example.net>"
    msg["To"] = to
    msg["Subject"] = f"Bantuan #{i}"
    msg["Message-ID"] = f"<bench-e2e-{i}-{time.time_ns()}@example.net>"
    msg.set_content(TEXTS[i % len(TEXTS)] + "\n\nTerima kasih,\nCustomer")
    return msg


def smtp_rate(port: int, n: int, to: str, seconds: float = 1e9) -> tuple[float, int]:
    """(messages/s, messages sent) over one SMTP session, stopping after `seconds`."""
    msgs = [mail(i, to) for i in range(n)]
    sent = 0
    with smtplib.SMTP(HOST, port, timeout=60) as s:
        t0 = time.perf_counter()
        for m in msgs:
            s.send_message(m)
            sent += 1
            if time.perf_counter() - t0 > seconds:
                break
        return sent / (time.perf_counter() - t0), sent


def null_smtp_rate(port: int, n: int, to: str) -> float:
    from aiosmtpd.controller import Controller

    class Drop:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            return "250 OK"

    controller = Controller(Drop(), hostname=HOST, port=port)
    controller.start()
    try:
        return smtp_rate(port, n, to)[0]
    finally:
        controller.stop()


def webhook_requests(n: int, secrets: dict[str, str], offset: int) -> list[tuple[str, dict[str, str], bytes]]:
    from deskintake.commands.chat_send import build_request

    out = []
    for i in range(n):
        platform = ("whatsapp", "telegram", "livechat")[i % 3]
        who = {"whatsapp": f"62812{offset + i:08d}", "telegram": str(700000 + offset + i),
               "livechat": f"visitor{offset + i}@example.net"}[platform]
        out.append(build_request(platform, TEXTS[i % len(TEXTS)], sender=who,
                                 message_id=f"bench-e2e-{offset + i}", secrets_env=secrets))
    return out


def post_all(port: int, reqs: list[tuple[str, dict[str, str], bytes]], deadline: float) -> list[int]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    codes = []
    for path, headers, body in reqs:
        if time.perf_counter() > deadline:
            break
        conn.request("POST", path, body=body, headers=dict(headers, **{"Content-Type": "application/json"}))
        r = conn.getresponse()
        r.read()
        codes.append(r.status)
    conn.close()
    return codes


def get_rate(port: int, path: str, n: int) -> float:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    t0 = time.perf_counter()
    for _ in range(n):
        conn.request("GET", path)
        conn.getresponse().read()
    conn.close()
    return n / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=20.0, help="time limit of each phase")
    ap.add_argument("--port-base", type=int, default=18480)
    args = ap.parse_args()
    n, base = args.n, args.port_base
    state = Path(tempfile.mkdtemp(prefix="deskintake-bench-"))
    proc = start_stack(base, state)
    try:
        info = json.loads((state / "stack.json").read_text("utf-8"))
        env = info["env"]
        to = info["support_address"]
        secrets = {k: v for k, v in env.items() if k.startswith("DESKINTAKE_") and
                   k.endswith(("SECRET", "TOKEN"))}
        health = get_rate(base, "/health", 50)
        null_smtp = null_smtp_rate(base + 3, n, to)
        smtp, mails = smtp_rate(base + 1, n, to, args.seconds)

        reqs = webhook_requests(n, secrets, 0)
        t0 = time.perf_counter()
        codes = post_all(base, reqs, t0 + args.seconds)
        seq, n_seq = len(codes) / (time.perf_counter() - t0), len(codes)

        reqs = webhook_requests(n, secrets, n)
        parts = [reqs[i::4] for i in range(4)]
        results: list[list[int]] = [[] for _ in parts]
        t0 = time.perf_counter()
        threads = [threading.Thread(target=lambda k=k: results[k].extend(
            post_all(base, parts[k], t0 + args.seconds))) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        n_par = sum(len(r) for r in results)
        par = n_par / (time.perf_counter() - t0)
        codes += [c for r in results for c in r]
        sent = mails + n_seq + n_par

        import boto3

        ddb = boto3.client("dynamodb", endpoint_url=info["aws_endpoint"], region_name="ap-southeast-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        tickets = 0
        for page in ddb.get_paginator("scan").paginate(
            TableName=env["DESKINTAKE_TABLE"], FilterExpression="sk = :t",
            ExpressionAttributeValues={":t": {"S": "T"}}, Select="COUNT",
        ):
            tickets += page["Count"]
    finally:
        stop(proc)
        shutil.rmtree(state, ignore_errors=True)

    bad = [c for c in codes if c != 200]
    print(f"end-to-end on the local stack (one process: moto + gateway + functions); sent "
          f"{mails} mails, {n_seq} + {n_par} webhooks (at most {n} each, {args.seconds:g} s each)")
    print(f"  SMTP, null server (baseline)          {null_smtp:8.1f} msg/s")
    print(f"  SMTP -> email function -> moto        {smtp:8.1f} msg/s  ({null_smtp / smtp:.0f}x slower "
          f"than the null server; {1000 / smtp:.0f} ms/mail)")
    print(f"  GET /health (baseline: 1 moto call)   {health:8.1f} req/s")
    print(f"  webhooks, 1 connection                {seq:8.1f} msg/s  ({health / seq:.1f}x the cost of "
          f"/health; {1000 / seq:.0f} ms/msg)")
    print(f"  webhooks, 4 threads                   {par:8.1f} msg/s")
    print(f"  tickets filed: {tickets} of {sent} messages sent (every message is a new customer); "
          f"non-200 webhook answers: {len(bad)}")
    return 0 if not bad and tickets == sent else 1


if __name__ == "__main__":
    sys.exit(main())
