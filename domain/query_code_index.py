"""Index aggregate: finds a case by the hash of its query code without scanning.

Its id is a uuid5 of the hash, so looking a code up is one read of one tiny aggregate, and
registering a duplicate hash fails on the store's uniqueness check (the save is atomic with
the petition's ``Registered``).
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.name_ids import NameIds
from domain.written_once import created_event

NAMESPACE = uuid5(NAMESPACE_URL, "petition-engine/query-code")
_IDS = NameIds(NAMESPACE)


class QueryCodeIndex(Aggregate):
    class Indexed(Aggregate.Created):
        query_code_hash: str
        case_id: UUID

    @staticmethod
    def create_id(query_code_hash: str) -> UUID:
        return _IDS.id(query_code_hash)  # uuid5(NAMESPACE, query_code_hash)

    @classmethod
    def indexed(cls, query_code_hash: str, case_id: UUID) -> QueryCodeIndex.Indexed:
        """The event ``QueryCodeIndex(query_code_hash, case_id)`` records, to save without
        the aggregate (domain/written_once.py)."""
        return created_event(cls, cls.Indexed, cls.create_id(query_code_hash),
                             query_code_hash=query_code_hash, case_id=case_id)

    @event(Indexed)
    def __init__(self, query_code_hash: str, case_id: UUID):
        self.query_code_hash = query_code_hash
        self.case_id = case_id
