"""Finding a petitioner's concluded matter at registration, and keeping the index it reads.

The rule is domain/concluded_matters.py; this module reads the store for it. At registration,
before anything is appended, the petitioner's indexed cases are loaded (the event store, not a
view) and the latest one that is the same matter and concluded is returned: the registration is
then flagged with it. When a case is first answered on a track that owes a review, its own
record (``PetitionerCase``) is saved in the same transaction as the ``Answered`` event — a
record of that case only, so answers to two cases of one petitioner never write the same
aggregate and never collide.

The petitioner's records are found by one keyed range of ids (``petitioner_range``), read by an
``EventsInRange`` the composition root injects (adapters/persistence/id_ranges.py: a range on the
event table's primary key); without one, ``scan_for_records`` reads the log's index records
(the in-memory store of the unit tests). The former index, one ``PetitionerCases`` per
petitioner, is still read beside it, so a store written before keeps its concluded matters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.persistence import ApplicationRecorder, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from domain.concluded_matters import (
    PetitionerCase,
    PetitionerCases,
    concluded,
    petitioner_range,
    same_matter,
)
from domain.deadlines import DeadlinePolicy
from domain.petition import Petition
from domain.values import Location
from workflows.query_codes import QueryCodes

EventsInRange = Callable[[UUID, UUID], Sequence[StoredEvent]]
"""The stored events of every aggregate whose id lies in [low, high], in the order written."""

INDEXED_TOPIC = get_topic(PetitionerCase.Indexed)
PAGE = 500


def petitioner_key(codes: QueryCodes, id_number: str) -> str:
    """The keyed hash of an ID number: the analytics' ``petitioner_key`` (same derivation)."""
    return codes.derive("petitioner", id_number.strip().upper())


def scan_for_records(recorder: ApplicationRecorder) -> EventsInRange:
    """An ``EventsInRange`` over the log's index records, for a store without a keyed range
    (the in-memory one): it reads every index record, so the stores of a deployment get the
    keyed one."""

    def between(low: UUID, high: UUID) -> list[StoredEvent]:
        return [n for n in notifications(recorder, INDEXED_TOPIC)
                if low <= UUID(str(n.originator_id)) <= high]

    return between


def notifications(recorder: ApplicationRecorder, topic: str) -> Iterator[StoredEvent]:
    """The log's events of one topic, in order, a page at a time."""
    start: int | None = None
    while True:
        page = recorder.select_notifications(start=start, limit=PAGE, topics=[topic],
                                             inclusive_of_start=start is None)
        yield from page
        if len(page) < PAGE:
            return
        start = page[-1].id


@dataclass(frozen=True)
class ConcludedMatterIndex:
    """The petitioner's indexed cases: read at registration, extended at a first answer."""

    repository: Repository[UUID]
    recorder: ApplicationRecorder  # the plain one (reads), not a group-commit wrapper
    mapper: Mapper[UUID]
    events_between: EventsInRange

    def case_ids(self, key: str) -> list[UUID]:
        """The petitioner's indexed cases, in the order they were indexed (former index first)."""
        found = list(_former_index(self.repository, key))
        for stored in self.events_between(*petitioner_range(key)):
            record = self.mapper.to_domain_event(stored)
            if isinstance(record, PetitionerCase.Indexed) and record.petitioner_key == key \
                    and record.case_id not in found:
                found.append(record.case_id)
        return found

    def concluded_earlier(self, policy: DeadlinePolicy, key: str, *, category: str,
                          location: Location, subject: str, content: str,
                          at: datetime) -> UUID | None:
        """The latest earlier case of this petitioner where this matter was concluded, if any."""
        for case_id in reversed(self.case_ids(key)):
            earlier: Any = self.repository.get(case_id)
            if not isinstance(earlier, Petition):
                continue
            windows = (policy.review_window(earlier), policy.re_review_window(earlier))
            if same_matter(earlier, category, location, subject, content) \
                    and concluded(earlier, windows, at):
                return earlier.id
        return None

    def record_of(self, policy: DeadlinePolicy, codes: QueryCodes,
                  petition: Petition) -> PetitionerCase | None:
        """This case's index record, to save with its answer (None: nothing to add — the track
        owes no review, or the case has its record already)."""
        if not policy.rules.track_has(petition.handling_track, "review"):
            return None
        key = petitioner_key(codes, petition.petitioner.id_number)
        record_id = PetitionerCase.create_id(key, petition.id)
        if self.recorder.select_events(record_id, limit=1):
            return None
        return PetitionerCase(petitioner_key=key, case_id=petition.id)


def _former_index(repository: Repository[UUID], key: str) -> list[UUID]:
    try:
        index: PetitionerCases = repository.get(PetitionerCases.create_id(key))
    except AggregateNotFoundError:
        return []
    return list(index.case_ids)
