"""Idempotent commands: a retried request with the same key gets the first result, once.

The record is an aggregate saved in the same transaction as the command's events, so either
both exist or neither does — across restarts and crashes. Its id is a uuid5 of the caller's
scope and key; a request that reuses a key with a different body is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from workflows.commands import Command

NAMESPACE = uuid5(NAMESPACE_URL, "petition-engine/idempotency")


def record_id(scope: str, key: str) -> UUID:
    return uuid5(NAMESPACE, f"{scope}\x00{key}")


def fingerprint(command: Command) -> str:
    body = command.model_dump(mode="json")
    canonical = json.dumps([type(command).__name__, body], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotentResponse(Aggregate):
    @staticmethod
    def create_id(scope: str, key: str) -> UUID:
        return record_id(scope, key)

    @event("Recorded")
    def __init__(self, scope: str, key: str, fingerprint: str, result: dict[str, Any]):
        self.scope, self.key = scope, key
        self.fingerprint = fingerprint
        self.result = result
