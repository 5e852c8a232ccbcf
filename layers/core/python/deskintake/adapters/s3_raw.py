"""RawStore over S3: raw MIME as SES stored it, webhook bodies, attachment bytes."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from deskintake.domain.errors import NotFoundError, TransientError


class S3RawStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    def get(self, key: str) -> bytes:
        try:
            body: bytes = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            return body
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise NotFoundError(f"s3://{self.bucket}/{key}") from exc
            raise TransientError(f"S3 get {key}: {code}") from exc

    def put(self, key: str, body: bytes, *, content_type: str = "application/octet-stream") -> None:
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        except ClientError as exc:
            raise TransientError(f"S3 put {key}: {exc.response.get('Error', {}).get('Code')}") from exc
