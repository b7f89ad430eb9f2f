"""Finding a petitioner's concluded matter at registration, and keeping the index it reads.

The rule is domain/concluded_matters.py; this module reads the store for it. At registration,
before anything is appended, the petitioner's indexed cases are loaded (the event store, not a
view) and the latest one that is the same matter and concluded is returned: the registration is
then flagged with it. When a case is first answered on a track that owes a review, its own
record (``PetitionerCase``) is saved in the same transaction as the ``Answered`` event — a
record of that case only, so answers to two cases of one petitioner never write the same
aggregate and never collide.

The petitioner's records are found by one keyed range of ids (``petitioner_range``), read by an
``EventsInRanges`` the composition root injects (adapters/persistence/id_ranges.py: ranges on the
event table's primary key); without one, ``scan_for_records`` reads the log's index records
(the in-memory store of the unit tests). The former index, one ``PetitionerCases`` per
petitioner, is still read beside it — in the same statement, as the one-id range of its id — so
a store written before keeps its concluded matters. A batch of registrations (an inbound
consumer's poll) reads all its petitioners' ranges in one statement (``case_ids_of``), not two
round trips per order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository
from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification, StoredEvent
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

EventsInRanges = Callable[[Sequence[tuple[UUID, UUID]]], Sequence[StoredEvent]]
"""The stored events of every aggregate whose id lies in one of the [low, high] ranges, in the
order written."""

INDEXED_TOPIC = get_topic(PetitionerCase.Indexed)
FORMER_TOPICS = tuple(get_topic(getattr(PetitionerCases, name)) for name in ("Started", "Added"))
PAGE = 500


def petitioner_key(codes: QueryCodes, id_number: str) -> str:
    """The keyed hash of an ID number: the analytics' ``petitioner_key`` (same derivation)."""
    return codes.derive("petitioner", id_number.strip().upper())


def never_answered(petition: Petition) -> bool:
    """No answer was ever recorded on the case: none now, and never reopened (a reopening is
    the one event that clears an answer). A state restored from a snapshot older than the
    reopening count is not taken to be one."""
    return petition.answered_at is None and getattr(petition, "reopen_count", None) == 0


def scan_for_records(recorder: ApplicationRecorder) -> EventsInRanges:
    """An ``EventsInRanges`` over the log's index records, for a store without a keyed range
    (the in-memory one): it reads every index record (and the former indexes' events), so the
    stores of a deployment get the keyed one."""

    def between(ranges: Sequence[tuple[UUID, UUID]]) -> list[StoredEvent]:
        found = [n for topic in (INDEXED_TOPIC, *FORMER_TOPICS)
                 for n in notifications(recorder, topic)
                 if any(low <= UUID(str(n.originator_id)) <= high for low, high in ranges)]
        found.sort(key=lambda n: n.id)  # in the order written
        return list(found)

    return between


def notifications(recorder: ApplicationRecorder, topic: str) -> Iterator[Notification]:
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
    events_between: EventsInRanges

    def case_ids(self, key: str) -> list[UUID]:
        """The petitioner's indexed cases, in the order they were indexed (former index first)."""
        return self.case_ids_of([key])[key]

    def case_ids_of(self, keys: Iterable[str]) -> dict[str, list[UUID]]:
        """``case_ids`` of several petitioners, in one read: each one's range of records and
        the one-id range of its former index."""
        keys = list(dict.fromkeys(keys))
        former = {PetitionerCases.create_id(key): key for key in keys}
        ranges = [*map(petitioner_range, keys), *((i, i) for i in former)]
        formers: dict[str, Any] = {}
        records: dict[str, list[UUID]] = {key: [] for key in keys}
        for stored in self.events_between(ranges) if keys else ():
            event: Any = self.mapper.to_domain_event(stored)
            owner = former.get(UUID(str(stored.originator_id)))
            if owner is not None and isinstance(event, PetitionerCases.Event):
                formers[owner] = event.mutate(formers.get(owner))  # as the repository does
            elif isinstance(event, PetitionerCase.Indexed) and event.petitioner_key in records:
                records[event.petitioner_key].append(event.case_id)
        found = {}
        for key in keys:
            ids = list(formers[key].case_ids) if key in formers else []
            found[key] = ids + [i for i in dict.fromkeys(records[key]) if i not in ids]
        return found

    def concluded_earlier(self, policy: DeadlinePolicy, key: str, *, category: str,
                          location: Location, subject: str, content: str,
                          at: datetime, known: Mapping[str, list[UUID]] | None = None
                          ) -> UUID | None:
        """The latest earlier case of this petitioner where this matter was concluded, if any.
        ``known``: ``case_ids_of`` read already for a batch of registrations."""
        case_ids = known[key] if known is not None and key in known else self.case_ids(key)
        for case_id in reversed(case_ids):
            earlier: Any = self.repository.get(case_id)
            if not isinstance(earlier, Petition):
                continue
            windows = (policy.review_window(earlier), policy.re_review_window(earlier))
            if same_matter(earlier, category, location, subject, content) \
                    and concluded(earlier, windows, at):
                return earlier.id
        return None

    def record_of(self, policy: DeadlinePolicy, codes: QueryCodes, petition: Petition, *,
                  first_answer: bool = False) -> PetitionerCase.Indexed | None:
        """This case's index record (its one event), to save with its answer (None: nothing to add — the track
        owes no review, or the case has its record already). ``first_answer``: the case had
        never been answered before this answer, so it has no record yet (only an answer, or
        the backfill of an answered case, writes one) and the store is not asked."""
        if not policy.rules.track_has(petition.handling_track, "review"):
            return None
        key = petitioner_key(codes, petition.petitioner.id_number)
        if not first_answer and self.recorder.select_events(
                PetitionerCase.create_id(key, petition.id), limit=1):
            return None
        return PetitionerCase.indexed(key, petition.id)

