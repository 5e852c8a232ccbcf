"""Per-message CPU: email parse + mask + classify, and webhook handling, against stdlib floors.

Usage: .venv/bin/python bench/bench_per_message.py [--rounds 5]

Email: every real mail of ../shared/corpus/emails/ (index.jsonl) goes through what the email
function does before storing (deskintake.inbound.email.parse_email, which masks, then
to_inbound and the classifier), against the standard library's `email` parser alone
(BytesParser with policy.default, plus get_content() of each text part: the least any intake
must do). Webhooks: signed bodies of the three platforms (built by `deskintake chat-send`'s
request builder) through the real chat handler file, called with an API Gateway v2 event, with
its intake step replaced by a no-op (so this is routing + size check + signature + parse);
and verify + parse alone. The floor is json.loads of the body. Each figure is the median of
--rounds passes over all messages, warm (after one pass), in this process, in CPU time
(time.process_time), so the load of other processes on the machine does not count.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import importlib.util
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, function_env  # noqa: E402

SHARED = ROOT.parent / "shared"
NOW = datetime(2026, 11, 21, 0, 31, tzinfo=UTC)


def timed(fn: Any, items: list[Any], rounds: int) -> float:
    """Median CPU seconds (process time: other processes' load does not count) per item over
    `rounds` passes, after one warm-up pass."""
    for it in items:
        fn(it)
    per = []
    for _ in range(rounds):
        t0 = time.process_time()
        for it in items:
            fn(it)
        per.append((time.process_time() - t0) / len(items))
    return statistics.median(per)


def mails() -> list[bytes]:
    index = SHARED / "corpus" / "emails" / "index.jsonl"
    paths = [json.loads(line)["path"] for line in index.read_text("utf-8").splitlines() if line.strip()]
    return [(SHARED / "corpus" / "emails" / p).read_bytes() for p in paths]


def stdlib_floor(raw: bytes) -> int:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    n = 0
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            with contextlib.suppress(LookupError, ValueError, AssertionError):
                n += len(part.get_content())
    return n


def email_pipeline(raw: bytes) -> str:
    from deskintake.inbound.email import parse_email
    from deskintake.runtime.wiring import classify_inbound

    try:
        parsed = parse_email(raw, received_at=NOW)
    except Exception:  # noqa: BLE001 - the function records these as failures; so do we
        return "failed"
    return str(classify_inbound(parsed.to_inbound(raw_key="inbound/x")).category)


def email_parse_only(raw: bytes) -> object:
    from deskintake.inbound.email import parse_email

    try:
        return parse_email(raw, received_at=NOW)
    except Exception:  # noqa: BLE001
        return None


TEXTS = [
    "min pulsa sy blm masuk udh 1 jam, trx INV-230914-88213 Rp50rb",
    "Saya tidak pernah melakukan transaksi ini, kartu saya dibobol!",
    "我的信用卡被盗刷了，尾号 7894，请马上冻结",
    "Hi, I was charged twice for order #5512399, please refund",
    "halo kak mau tanya cara ganti nomor hp di akun",
]


def webhook_requests() -> list[tuple[str, str, dict[str, str], bytes]]:
    from deskintake.commands.chat_send import build_request
    from deskintake.local.stack import local_secrets

    out = []
    for i, text in enumerate(TEXTS):
        for platform in ("whatsapp", "telegram", "livechat"):
            sender = {"whatsapp": "6281234567890", "telegram": "987654321", "livechat": None}[platform]
            path, headers, body = build_request(
                platform, text, sender=sender, message_id=f"bench-{platform}-{i}",
                secrets_env=local_secrets(),
            )
            out.append((platform, path, headers, body))
    return out


def load_chat_handler() -> Any:
    spec = importlib.util.spec_from_file_location("chat_handler", ROOT / "functions/chat_webhook/handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class _Outcome:
        tickets: list[Any] = []
        statuses_applied = statuses_unmatched = edits_applied = ignored = 0

        def as_json(self) -> dict[str, Any]:
            return {"tickets": []}

    module.chat_deps = lambda: (None, None)  # intake is measured by bench_aws_calls / bench_e2e
    module.process = lambda batch, deps, body, now, channel_id=None: _Outcome()
    return module


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    import os
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish")

    os.environ.update({k: v for k, v in function_env("ChatWebhookFunction").items()
                       if k.startswith(("DESKINTAKE_", "POWERTOOLS_", "AWS_"))})
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "1"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

    raws = mails()
    floor = timed(stdlib_floor, raws, args.rounds)
    parse = timed(email_parse_only, raws, args.rounds)
    full = timed(email_pipeline, raws, args.rounds)
    kb = statistics.mean(len(r) for r in raws) / 1024
    print(f"email: {len(raws)} real mails from ../shared/corpus/emails (mean {kb:.1f} KiB), warm, "
          f"CPU time, median of {args.rounds} passes")
    print(f"  stdlib email parser + text parts   {floor * 1e3:8.2f} ms/mail  (baseline)")
    print(f"  parse_email (parse + mask)         {parse * 1e3:8.2f} ms/mail  {parse / floor:5.1f}x")
    print(f"  parse + mask + classify            {full * 1e3:8.2f} ms/mail  {full / floor:5.1f}x"
          f"  ({1 / full:.0f} mails/s on one core)")

    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2  # noqa: F401
    from deskintake.domain.model import Channel
    from deskintake.inbound import signatures
    from deskintake.inbound.chat import parse as chat_parse
    from deskintake.local.functions import LambdaContext
    from deskintake.local.gateway import v2_event
    from deskintake.local.stack import local_secrets
    from deskintake.local.template import HttpRoute

    reqs = webhook_requests()
    handler = load_chat_handler()
    secrets = local_secrets()
    ctx = LambdaContext(function_name="ChatWebhookFunction")
    events = [
        v2_event("POST", HttpRoute("ChatWebhookFunction", "POST", path), path, "",
                 {k.lower(): v for k, v in headers.items()}, body, {}, "203.0.113.9")
        for _, path, headers, body in reqs
    ]

    def via_handler(event: dict[str, Any]) -> None:
        response = handler.lambda_handler(event, ctx)
        assert response["statusCode"] == 200, response

    def verify_parse(req: tuple[str, str, dict[str, str], bytes]) -> None:
        platform, _, headers, body = req
        now = datetime.now(UTC)
        if platform == "whatsapp":
            signatures.verify_whatsapp(body, headers["X-Hub-Signature-256"],
                                       secrets["DESKINTAKE_WHATSAPP_APP_SECRET"])
        elif platform == "telegram":
            signatures.verify_telegram(headers["X-Telegram-Bot-Api-Secret-Token"],
                                       secrets["DESKINTAKE_TELEGRAM_SECRET_TOKEN"])
        else:
            signatures.verify_livechat(body, headers["X-Signature"], headers["X-Timestamp"],
                                       secrets["DESKINTAKE_LIVECHAT_SECRET"], now=now)
        chat_parse(Channel(platform), body, received_at=now)

    j = timed(lambda r: json.loads(r[3]), reqs, args.rounds)
    vp = timed(verify_parse, reqs, args.rounds)
    hd = timed(via_handler, events, args.rounds)
    print(f"webhooks: {len(reqs)} signed bodies (WhatsApp, Telegram, live chat), warm, "
          f"CPU time, median of {args.rounds} passes")
    print(f"  json.loads(body)                   {j * 1e6:8.1f} us/msg  (baseline)")
    print(f"  verify + parse                     {vp * 1e6:8.1f} us/msg  {vp / j:5.1f}x")
    print(f"  chat handler, v2 event, no intake  {hd * 1e6:8.1f} us/msg  {hd / j:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
