"""moto's server as the local AWS: started on loopback, filled from template.yaml, saved to disk.

moto keeps state in memory only, so the stack snapshots the tables' items and the buckets'
objects into the state folder and loads them again on the next start.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from deskintake.local.template import REGION, LocalTemplate

log = logging.getLogger(__name__)

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def point_boto3_at(endpoint: str) -> None:
    """Every boto3 client made after this talks to `endpoint` (boto3 reads AWS_ENDPOINT_URL)."""
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint


def _serialized_moto_server() -> Any:
    """moto's threaded server, answering one request at a time.

    moto's DynamoDB is not safe under concurrent requests: transact_write_items deep-copies
    the table for rollback and, when a condition fails, restores that copy, undoing writes
    other threads made meanwhile (lost repeat counts, two tickets for one open-key). Real
    DynamoDB serialises conditional writes per item; one lock restores that guarantee.
    """
    from moto.moto_server import threaded_moto_server as tms

    class SerializedMotoServer(tms.ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = tms.DomainDispatcherApplication(tms.create_backend_app)  # type: ignore[attr-defined]
            lock = threading.Lock()

            def serial(environ: Any, start_response: Any) -> Any:
                with lock:
                    return list(app(environ, start_response))

            self._server = tms.make_server(  # type: ignore[attr-defined]
                self._ip_address, self._port, serial, True,
                request_handler=tms.MotoRequestHandler)  # type: ignore[attr-defined]
            self._server_ready_event.set()
            self._server.serve_forever()

    return SerializedMotoServer


class LocalAws:
    """A moto server thread and the resources of template.yaml inside it."""

    def __init__(self, template: LocalTemplate, *, host: str, port: int, state_dir: Path) -> None:
        self.template = template
        self.host, self.port = host, port
        self.endpoint = f"http://{host}:{port}"
        self.state_dir = state_dir
        self._server: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's verbose=False leaves these on
        from deskintake.local import moto_transactions

        moto_transactions.install()  # transactions back up their items, not whole tables
        self._server = _serialized_moto_server()(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        point_boto3_at(self.endpoint)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    # -- resources ----------------------------------------------------------------------

    def create_resources(self, *, verified_senders: list[str]) -> None:
        create_template_resources(self.template, self.client, verified_senders=verified_senders)

    # -- persistence --------------------------------------------------------------------

    def save(self) -> None:
        """Write every table item and bucket object to the state folder."""
        with self._lock:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            snapshot: dict[str, Any] = {"tables": {}, "buckets": {}}
            ddb, s3 = self.client("dynamodb"), self.client("s3")
            for name in self.template.of_type("AWS::DynamoDB::Table"):
                table = self.template.local_name(name)
                items: list[Any] = []
                for page in ddb.get_paginator("scan").paginate(TableName=table):
                    items.extend(page.get("Items", []))
                snapshot["tables"][table] = items
            for name in self.template.of_type("AWS::S3::Bucket"):
                bucket = self.template.local_name(name)
                objects = {}
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                    for obj in page.get("Contents", []):
                        body = s3.get_object(Bucket=bucket, Key=obj["Key"])
                        objects[obj["Key"]] = {
                            "body": base64.b64encode(body["Body"].read()).decode(),
                            "content_type": body.get("ContentType", "application/octet-stream"),
                        }
                snapshot["buckets"][bucket] = objects
            tmp = self.state_dir / "aws.json.tmp"
            tmp.write_text(json.dumps(snapshot), encoding="utf-8")
            tmp.replace(self.state_dir / "aws.json")

    def restore(self) -> bool:
        path = self.state_dir / "aws.json"
        if not path.exists():
            return False
        snapshot = json.loads(path.read_text(encoding="utf-8"))
        ddb, s3 = self.client("dynamodb"), self.client("s3")
        for table, items in snapshot.get("tables", {}).items():
            for start in range(0, len(items), 25):
                batch = [{"PutRequest": {"Item": i}} for i in items[start:start + 25]]
                request: dict[str, Any] = {table: batch}
                while request:
                    request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        for bucket, objects in snapshot.get("buckets", {}).items():
            for key, obj in objects.items():
                s3.put_object(Bucket=bucket, Key=key, Body=base64.b64decode(obj["body"]),
                              ContentType=obj["content_type"])
        return True


def _ignore_exists(create: Any, **kwargs: Any) -> None:
    from botocore.exceptions import ClientError

    try:
        create(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if "Exist" not in code and "AlreadyOwned" not in code and code != "ConflictException":
            raise


def create_template_resources(template: LocalTemplate, client: Any, *, verified_senders: list[str]) -> None:
    """Create the template's tables, buckets, queues, buses and schedule groups via `client(service)`."""
    t = template
    ddb, s3, sqs, events = (client(s) for s in ("dynamodb", "s3", "sqs", "events"))
    for name, resource in t.of_type("AWS::DynamoDB::Table").items():
        props = resource.get("Properties") or {}
        kwargs: dict[str, Any] = {
            "TableName": t.local_name(name),
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        _ignore_exists(ddb.create_table, **kwargs)
    for name in t.of_type("AWS::S3::Bucket"):
        _ignore_exists(s3.create_bucket, Bucket=t.local_name(name),
                       CreateBucketConfiguration={"LocationConstraint": REGION})
    for name in t.of_type("AWS::SQS::Queue"):
        _ignore_exists(sqs.create_queue, QueueName=name)
    for name in t.of_type("AWS::Events::EventBus"):
        _ignore_exists(events.create_event_bus, Name=t.local_name(name))
    groups = t.of_type("AWS::Scheduler::ScheduleGroup")
    if groups:
        scheduler = client("scheduler")
        for name in groups:
            _ignore_exists(scheduler.create_schedule_group, Name=t.local_name(name))
    ses = client("ses")
    for address in verified_senders:
        ses.verify_email_identity(EmailAddress=address)
