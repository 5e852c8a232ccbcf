"""Send .eml files into the local stack through its SMTP port, the same path as any mail."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="raw MIME files")
    parser.add_argument("--smtp", default=None, help="host:port (default: the running stack's)")
    parser.add_argument("--to", default=None, help="recipient (default: the support address)")


def run(args: argparse.Namespace) -> int:
    from deskintake.local.stack import LOCAL_SUPPORT_ADDRESS, send_raw

    if args.smtp:
        host, _, port = args.smtp.rpartition(":")
    else:
        from deskintake.local.attach import stack_info

        host, _, port = stack_info()["smtp"].rpartition(":")
    failed = 0
    for path in args.files:
        try:
            send_raw(path.read_bytes(), host=host, port=int(port), to=args.to or LOCAL_SUPPORT_ADDRESS)
            print(f"sent {path}")
        except (OSError, Exception) as exc:  # noqa: BLE001 - report each file, keep going
            failed += 1
            print(f"failed {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1 if failed else 0
