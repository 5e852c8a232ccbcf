"""Start the local stack: moto as AWS, the HTTP gateway and dashboard, the SMTP port, the clock."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--http-port", type=int, default=8080, help="gateway and dashboard (8080)")
    parser.add_argument("--smtp-port", type=int, default=2525, help="SMTP like SES receiving (2525)")
    parser.add_argument("--aws-port", type=int, default=4566, help="moto's AWS endpoint (4566)")
    parser.add_argument("--state-dir", type=Path, default=None, help="where local data is kept")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    parser.add_argument("--no-clock", action="store_true", help="do not fire due schedules")


def run(args: argparse.Namespace) -> int:
    from deskintake.local.stack import LocalStack, StackConfig

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = StackConfig(host=args.host, http_port=args.http_port, smtp_port=args.smtp_port,
                         aws_port=args.aws_port, demo=not args.no_demo, clock=not args.no_clock)
    if args.state_dir is not None:
        config.state_dir = args.state_dir
    stack = LocalStack(config)
    stack.start()
    info = stack.describe()
    lines = [
        "Desk Intake local stack is up.",
        f"  dashboard      {info['dashboard']}#token={info['agent_token']}",
        f"  API            {info['api']}   (Authorization: Bearer {info['agent_token']})",
        f"  health         {info['health']}",
        f"  SMTP           {info['smtp']}   (send to {info['support_address']})",
        f"  AWS endpoint   {info['aws_endpoint']}   (moto; any access key, region ap-southeast-1)",
        f"  state folder   {config.state_dir}   (`deskintake reset` clears it)",
    ]
    for agent in info.get("agents") or []:
        lines.append(f"  agent {agent['id']:<22} brands {','.join(agent['brands'] or [])}   "
                     f"token {agent['token']}")
    for brand, addresses in (info.get("brands") or {}).items():
        lines.append(f"  brand {brand:<22} mail to {', '.join(addresses)}")
    lines += [
        "  webhook secrets (development defaults, override with the same environment variables):",
    ]
    for key in sorted(k for k in info["env"] if k.endswith(("_SECRET", "_TOKEN")) and "WHATSAPP" in k
                      or k.endswith(("_SECRET", "_TOKEN")) and ("TELEGRAM" in k or "LIVECHAT" in k)):
        lines.append(f"    {key}={info['env'][key]}")
    lines.append("Ctrl-C stops it; data is kept.")
    print("\n".join(lines), flush=True)

    def stop(signum: int, frame: object) -> None:
        stack._stop.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    stack.wait()
    print("stopping: saving local state…", file=sys.stderr, flush=True)
    stack.stop()
    return 0
