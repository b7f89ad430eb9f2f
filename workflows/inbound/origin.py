"""Where an inbound case came from: (source, external id), found by the case's id.

Saved in the same transaction as the case it registers (``PetitionApplication.register``), so
a case that came from a work order can never lack it — the reply relay looks it up when the
case is answered, declined or closed, to address the source system's reply. A lookup by a
natural key through a uuid5-identified aggregate, like the query-code index.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid5(NAMESPACE_URL, "petition-engine/inbound-origin")


@dataclass(frozen=True)
class ExternalRef:
    """An order's identity in its source system."""

    source: str
    external_id: str

    @property
    def idempotency_scope(self) -> str:
        return f"inbound:{self.source}"


def origin_id(case_id: UUID) -> UUID:
    return uuid5(NAMESPACE, str(case_id))


class InboundOrigin(Aggregate):
    @staticmethod
    def create_id(case_id: UUID, source: str, external_id: str) -> UUID:
        return origin_id(case_id)

    @event("Recorded")
    def __init__(self, case_id: UUID, source: str, external_id: str):
        self.case_id, self.source, self.external_id = case_id, source, external_id
