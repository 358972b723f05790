"""The root of every error Chorus raises on purpose, and the kinds a boundary can translate.

Each package derives its own errors from these classes. The gRPC runtime maps each kind to one status code
with ``google.rpc`` details (see ``services.common.grpc_runtime``); the CLI prints the message in one line.
Raise them with a message a caller can act on, never bare ``Exception``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ChorusError(Exception):
    """A failure Chorus knows how to explain in one sentence."""


class ConfigurationError(ChorusError):
    """The environment or the infrastructure does not match what Chorus was told to expect."""


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: its path (``identifier.value``) and what is wrong with it."""

    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    """One rule the current state does not allow: its type (``MERGE_CAP``), subject and description."""

    type: str
    subject: str
    description: str


class InvalidArgument(ChorusError):
    """The request itself is wrong, whatever the state (gRPC INVALID_ARGUMENT with BadRequest details)."""

    def __init__(self, message: str, violations: Sequence[FieldViolation] = ()) -> None:
        super().__init__(message)
        self.violations = tuple(violations) or (FieldViolation(field="", description=message),)

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        return cls(f"{field}: {description}", [FieldViolation(field, description)])


class NotFound(ChorusError):
    """The named resource does not exist (gRPC NOT_FOUND with ResourceInfo details)."""

    def __init__(self, resource_type: str, resource_name: str, description: str = "") -> None:
        super().__init__(description or f"{resource_type} {resource_name} not found")
        self.resource_type = resource_type
        self.resource_name = resource_name


class AlreadyExists(ChorusError):
    """The resource to create exists already (gRPC ALREADY_EXISTS with ResourceInfo details)."""

    def __init__(self, resource_type: str, resource_name: str, description: str = "") -> None:
        super().__init__(description or f"{resource_type} {resource_name} already exists")
        self.resource_type = resource_type
        self.resource_name = resource_name


class FailedPrecondition(ChorusError):
    """The state does not allow the request (gRPC FAILED_PRECONDITION with PreconditionFailure details)."""

    def __init__(self, message: str, violations: Sequence[PreconditionViolation] = ()) -> None:
        super().__init__(message)
        self.violations = tuple(violations)

    @classmethod
    def rule(cls, type: str, subject: str, description: str) -> FailedPrecondition:  # noqa: A002 - google.rpc name
        return cls(description, [PreconditionViolation(type, subject, description)])


class Conflict(ChorusError):
    """A concurrent write won the race; retrying the request is safe (gRPC ABORTED with ErrorInfo)."""

    reason = "CONCURRENT_WRITE"


class Unavailable(ChorusError):
    """The event store or another dependency cannot be reached now (gRPC UNAVAILABLE, retry later)."""
