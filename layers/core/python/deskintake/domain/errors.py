"""Desk Intake's exception tree, in one place.

    DeskIntakeError
    ├── InboundRejectedError        permanent: the input itself is bad (kept for inspection)
    │   ├── EmailParseError         raw mail yields nothing usable
    │   ├── SignatureError          webhook signature missing or wrong (HTTP 401)
    │   └── PayloadError            webhook body malformed (HTTP 400)
    ├── ConfigError                 operator configuration is invalid
    ├── NotFoundError               no such ticket (HTTP 404)
    ├── ConflictError               optimistic-concurrency check failed (HTTP 409)
    ├── DuplicateError              the same delivery was already stored
    └── TransientError              a dependency failed; raise so Lambda retries / DLQ keeps it
"""

from __future__ import annotations


class DeskIntakeError(Exception):
    """Base of every error Desk Intake raises on purpose."""


class InboundRejectedError(DeskIntakeError):
    """The inbound payload is permanently unusable; retrying will not help."""


class EmailParseError(InboundRejectedError):
    """The raw mail yields nothing usable."""


class SignatureError(InboundRejectedError):
    """A webhook's signature is missing or does not match."""


class PayloadError(InboundRejectedError):
    """A webhook's body is malformed."""


class ConfigError(DeskIntakeError):
    """Operator configuration is invalid."""


class NotFoundError(DeskIntakeError):
    """The ticket (or other record) does not exist, or is not visible to the caller."""


class ConflictError(DeskIntakeError):
    """An update was based on a stale version."""


class DuplicateError(DeskIntakeError):
    """The same delivery was already stored."""


class TransientError(DeskIntakeError):
    """A dependency failed in a way a retry may fix."""
