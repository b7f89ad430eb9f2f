"""Errors the application adds to the domain's: missing cases and lost races."""

from __future__ import annotations

from uuid import UUID

from domain.errors import DomainError


class CaseNotFound(DomainError):
    def __init__(self, case_id: UUID | str):
        self.case_id = case_id
        super().__init__(f"no petition with id {case_id}")


class QueryCodeNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("no petition has this query code")


class ConcurrentModification(DomainError):
    """Another command changed the case first; re-read and retry."""

    def __init__(self, case_id: UUID | str):
        self.case_id = case_id
        super().__init__(f"petition {case_id} was changed by another command; retry")


class AccessDenied(Exception):
    """The caller's role or unit does not reach this case or action (HTTP 403)."""


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key came with a different request."""

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used for a different request")
