"""The embedded local stack: moto as AWS, the gateway, the SMTP port, the clock, demo data."""

from __future__ import annotations

import json
import logging
import os
import secrets
import smtplib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskintake.local.aws import LocalAws
from deskintake.local.functions import LocalFunctions
from deskintake.local.gateway import LocalGateway
from deskintake.local.smtp import SesReceiving, SmtpHandler, start_smtp
from deskintake.local.template import LocalTemplate

log = logging.getLogger(__name__)

LOCAL_SUPPORT_ADDRESS = "info@support.localhost"
# SES receives for the whole local domain: mail to an address no brand owns is accepted, then
# kept and reported by the email function (as in the cloud with a domain recipient).
LOCAL_INBOUND = f"{LOCAL_SUPPORT_ADDRESS},support.localhost"


def project_root() -> Path:
    """The repository root: where template.yaml is (the package is installed editable)."""
    if env := os.environ.get("DESKINTAKE_ROOT"):
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "template.yaml").is_file():
            return parent
    return Path.cwd()


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    http_port: int = 8080
    smtp_port: int = 2525
    aws_port: int = 4566
    state_dir: Path = field(default_factory=lambda: project_root() / ".state")
    template: Path = field(default_factory=lambda: project_root() / "template.yaml")
    demo: bool = True
    save_every_seconds: float = 15.0
    clock: bool = True


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.template = LocalTemplate.load(config.template, SupportAddress=LOCAL_SUPPORT_ADDRESS,
                                           InboundAddresses=LOCAL_INBOUND)
        self.aws = LocalAws(self.template, host=config.host, port=config.aws_port,
                            state_dir=config.state_dir)
        self.functions = LocalFunctions(self.template)
        self.gateway: LocalGateway | None = None
        self.smtp: Any = None
        self.smtp_handler: SmtpHandler | None = None
        self.clock: Any = None
        self.token = ""
        self.users: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._saver: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        cfg = self.config
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        (cfg.state_dir / "stack.json").unlink(missing_ok=True)
        self.token = self._agent_token()
        self.users = self._local_users()
        self.aws.start()
        env = self.environment()
        os.environ.update(env)
        senders = [b.sender.address for b in self.brands().brands if b.sender is not None]
        self.aws.create_resources(verified_senders=list(dict.fromkeys([LOCAL_SUPPORT_ADDRESS, *senders])))
        restored = self.aws.restore()
        self._start_smtp()
        self.gateway = LocalGateway(self.template.http_routes(), self.functions.invoke,
                                    static_dir=self._static_dir(), extra={"/health": self.health})
        self.gateway.start(cfg.host, cfg.http_port)
        if cfg.clock:
            self._start_clock()
        if cfg.demo and not restored:
            self.load_demo()
        # Written last: its presence tells commands and tests the stack is ready.
        ready = cfg.state_dir / "stack.json.tmp"
        ready.write_text(json.dumps(self.describe(), indent=1), encoding="utf-8")
        ready.replace(cfg.state_dir / "stack.json")  # atomic: a reader never sees half a file
        self._saver = threading.Thread(target=self._save_loop, name="state-saver", daemon=True)
        self._saver.start()

    def stop(self) -> None:
        self._stop.set()
        (self.config.state_dir / "stack.json").unlink(missing_ok=True)
        if self.clock is not None:
            self.clock.stop()
        if self.smtp is not None:
            self.smtp.stop()
        if self.gateway is not None:
            self.gateway.stop()
        try:
            self.aws.save()
        finally:
            self.aws.stop()

    def wait(self) -> None:
        self._stop.wait()

    # -- parts --------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        env = self.template.function_env()
        env.update({
            "DESKINTAKE_LOCAL": "1",
            "DESKINTAKE_API_TOKEN": self.token,
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_METRICS_DISABLED": "1",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "AWS_LAMBDA_FUNCTION_NAME": "deskintake-local",
            "DESKINTAKE_BRANDS_FILE": self.brands_file(),
            "DESKINTAKE_USERS_FILE": str(self.config.state_dir / "users.json"),
        })
        for key, value in local_secrets().items():
            env.setdefault(key, os.environ.get(key, value))
        return env

    def _start_smtp(self) -> None:
        t = self.template
        email_fn = t.email_function()
        if email_fn is None:
            return
        dlq = next((n for n in t.of_type("AWS::SQS::Queue") if n.startswith("EmailIntake")), None)
        sqs = self.aws.client("sqs")
        dlq_url = sqs.get_queue_url(QueueName=dlq)["QueueUrl"] if dlq else None
        bucket = next(t.local_name(n) for n in t.of_type("AWS::S3::Bucket") if n.startswith("RawMail"))
        receiving = SesReceiving(s3=self.aws.client("s3"), sqs=sqs, bucket=bucket,
                                 prefix=t.raw_prefix(), dlq_url=dlq_url,
                                 invoke=lambda event: self.functions.invoke(email_fn, event))
        recipients = t.receipt_recipients() or [LOCAL_SUPPORT_ADDRESS]
        for brand in self.brands().brands:  # every brand's inbox, as its receipt rule would
            recipients += [a.lstrip("@") for a in brand.addresses if a != "*"]
        self.smtp_handler = SmtpHandler(receiving, recipients)
        self.smtp = start_smtp(self.smtp_handler, host=self.config.host, port=self.config.smtp_port)

    def _start_clock(self) -> None:
        try:
            from deskintake.local.clock import LocalClock
        except ImportError:
            return
        self.clock = LocalClock(self)
        self.clock.start()

    def _static_dir(self) -> Path | None:
        for candidate in (project_root() / "web", Path(__file__).parent / "static"):
            if (candidate / "index.html").is_file():
                return candidate
        return None

    def brands_file(self) -> str:
        """The operator's DESKINTAKE_BRANDS_FILE, else the two demo brands in examples/."""
        return os.environ.get("DESKINTAKE_BRANDS_FILE") or str(project_root() / "examples" / "brands.json")

    def brands(self) -> Any:
        from deskintake.domain.brands import load_brands

        return load_brands(self.brands_file())

    def _local_users(self) -> list[dict[str, Any]]:
        """<state>/users.json: one demo agent per brand, each with a token of its own."""
        path = self.config.state_dir / "users.json"
        if path.exists():
            from deskintake.runtime.auth import local_users

            return local_users(str(path))
        users = [{"id": f"agent@{b.id}.local", "name": f"{b.display_name} agent",
                  "token": secrets.token_urlsafe(24), "brands": [b.id]}
                 for b in self.brands().brands]
        path.write_text(json.dumps({"users": users}, indent=1), encoding="utf-8")
        path.chmod(0o600)
        return users

    def _agent_token(self) -> str:
        path = self.config.state_dir / "agent-token"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        token = os.environ.get("DESKINTAKE_API_TOKEN") or secrets.token_urlsafe(24)
        path.write_text(token, encoding="utf-8")
        path.chmod(0o600)
        return token

    def _save_loop(self) -> None:
        while not self._stop.wait(self.config.save_every_seconds):
            try:
                self.aws.save()
            except Exception:  # noqa: BLE001 - keep serving; the next save may work
                log.exception("saving local state failed")

    # -- what a person sees -------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "dashboard": f"http://{cfg.host}:{cfg.http_port}/",
            "api": f"http://{cfg.host}:{cfg.http_port}/api",
            "health": f"http://{cfg.host}:{cfg.http_port}/health",
            "smtp": f"{cfg.host}:{cfg.smtp_port}",
            "support_address": LOCAL_SUPPORT_ADDRESS,
            "aws_endpoint": self.aws.endpoint,
            "agent_token": self.token,
            "agents": [{"id": u.get("id"), "brands": u.get("brands"), "token": u.get("token")}
                       for u in self.users],
            "brands": {b.id: sorted(b.addresses) for b in self.brands().brands},
            "env": self.environment(),
        }

    def health(self) -> tuple[int, dict[str, Any]]:
        status: dict[str, Any] = {"status": "ok", "smtp": self.smtp is not None,
                                  "clock": self.clock is not None}
        try:
            table = os.environ["DESKINTAKE_TABLE"]
            status["table"] = self.aws.client("dynamodb").describe_table(TableName=table)["Table"]["TableStatus"]
        except Exception as exc:  # noqa: BLE001 - health reports, never raises
            status.update(status="degraded", error=type(exc).__name__)
            return 503, status
        return 200, status

    def load_demo(self) -> int:
        """Send the demo mail in examples/ through the SMTP port, as a customer would."""
        folder = project_root() / "examples" / "emails"
        sent = 0
        for path in sorted(folder.glob("*.eml")):
            raw = path.read_bytes()
            send_raw(raw, host=self.config.host, port=self.config.smtp_port, to=_header_to(raw))
            sent += 1
        try:
            from deskintake.local.demo_chat import load_demo_chats
        except ImportError:
            return sent
        return sent + load_demo_chats(self)


def local_secrets() -> dict[str, str]:
    """Development defaults for webhook secrets; printed by `make run`, never used in the cloud."""
    return {
        "DESKINTAKE_WHATSAPP_APP_SECRET": "dev-whatsapp-app-secret",
        "DESKINTAKE_WHATSAPP_VERIFY_TOKEN": "dev-whatsapp-verify-token",
        "DESKINTAKE_TELEGRAM_SECRET_TOKEN": "dev-telegram-secret-token",
        "DESKINTAKE_LIVECHAT_SECRET": "dev-livechat-secret",
    }


def _header_to(raw: bytes) -> str:
    """The demo mail's To address (each brand's demo mail goes to that brand's inbox)."""
    from email import message_from_bytes
    from email.utils import getaddresses

    headers = message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0] + b"\n\n")
    addresses = [a for _, a in getaddresses([str(v) for v in headers.get_all("To") or []]) if a]
    return addresses[0] if addresses else LOCAL_SUPPORT_ADDRESS


def send_raw(raw: bytes, *, host: str, port: int, to: str = LOCAL_SUPPORT_ADDRESS) -> None:
    """Deliver raw MIME over SMTP; the envelope sender is the From address."""
    from email import message_from_bytes
    from email.utils import parseaddr

    headers = message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0] + b"\n\n")
    mail_from = parseaddr(str(headers.get("From", "")))[1] or "unknown@invalid"
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.sendmail(mail_from, [to], raw)
