"""Concluded matters (不再受理, 信访工作条例 Art. 35 para. 3): a petitioner who brings a matter
again after it was concluded is not silently registered as new.

A matter is **concluded** when its re-review was decided (复核, 终结), or when the petitioner let
the review window — or, after a review decision, the re-review window — pass without asking
(the recorded windows of domain/deadlines.py). A new petition is **the same matter** as an earlier
case of the same petitioner (the keyed hash of the ID number, the analytics' ``petitioner_key``)
when it has the same category, the same place (the street when both name one, else the
district) and a text similar enough: the Dice coefficient of the character bigrams of subject
and content is at least ``SIMILAR_TEXT``. Character bigrams need no word segmentation (Chinese
has no spaces) and no library, so the rule stays in the pure domain and is the same in every
process.

``PetitionerCase`` is the index that finds the petitioner's earlier cases without a scan: one
record per (petitioner, case), written in the same transaction as the case's first answer on a
track that owes a review (the only cases that can ever be concluded this way). Its id begins
with eight bytes derived from the petitioner's key alone, so one keyed range of ids
(``petitioner_range``) holds all of that petitioner's records: registration reads them with one
lookup on the event store's primary key, and an answer writes only its own case's record, so
answers to different cases of one petitioner never contend. ``PetitionerCases`` — one record
per petitioner, appended to by every answer of theirs — is the former index: it is no longer
written, and its records stay readable (docs/events.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import pairwise
from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.deadlines import Deadline
from domain.name_ids import NameIds
from domain.values import Location
from domain.written_once import created_event

NAMESPACE = uuid5(NAMESPACE_URL, "petition-engine/petitioner-cases")
CASE_NAMESPACE = uuid5(NAMESPACE_URL, "petition-engine/petitioner-case")
_FORMER_IDS, _CASE_IDS = NameIds(NAMESPACE), NameIds(CASE_NAMESPACE)  # uuid5 of each
SIMILAR_TEXT = 0.5
"""Dice coefficient of character bigrams from which two texts are the same matter: the same
complaint retold shares most of its two-character words (欠薪, 电梯, 油烟); a different matter
of the same category and street shares few."""


class EarlierCase(Protocol):
    category: str
    location: Location
    subject: str
    content: str
    re_review_decided_at: datetime | None


def bigrams(text: str) -> frozenset[str]:
    chars = [ch for ch in text.lower() if ch.isalnum()]
    return frozenset(a + b for a, b in pairwise(chars))


def similarity(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


def same_place(a: Location, b: Location) -> bool:
    if a.street and b.street:
        return a.street == b.street
    return a.district == b.district


def same_matter(earlier: EarlierCase, category: str, location: Location, subject: str,
                content: str) -> bool:
    return (earlier.category == category and same_place(earlier.location, location)
            and similarity(f"{earlier.subject} {earlier.content}",
                           f"{subject} {content}") >= SIMILAR_TEXT)


def concluded(earlier: EarlierCase, windows: Iterable[Deadline | None], at: datetime) -> bool:
    """Re-reviewed, or the petitioner's running request window (review or re-review) expired
    by ``at`` without a request (``windows``: the case's open request windows)."""
    if earlier.re_review_decided_at is not None:
        return True
    return any(w is not None and w.is_overdue(at) for w in windows)


class PetitionerCases(Aggregate):
    """The former index: the cases of one petitioner (by keyed hash) that can become concluded
    matters, in one record. Read, never written any more (see ``PetitionerCase``)."""

    @staticmethod
    def create_id(petitioner_key: str) -> UUID:
        return _FORMER_IDS.id(petitioner_key)  # uuid5(NAMESPACE, petitioner_key)

    @event("Started")
    def __init__(self, petitioner_key: str, case_id: UUID):
        self.petitioner_key = petitioner_key
        self.case_ids = [case_id]

    @event("Added")
    def add(self, case_id: UUID) -> None:
        self.case_ids.append(case_id)


def _petitioner_prefix(petitioner_key: str) -> bytes:
    return _CASE_IDS.high(petitioner_key)  # uuid5(CASE_NAMESPACE, petitioner_key).bytes[:8]


def petitioner_range(petitioner_key: str) -> tuple[UUID, UUID]:
    """The lowest and highest id a ``PetitionerCase`` of this petitioner can have."""
    low = int.from_bytes(_petitioner_prefix(petitioner_key), "big") << 64
    return UUID(int=low), UUID(int=low | (1 << 64) - 1)


class PetitionerCase(Aggregate):
    """One case of one petitioner (by keyed hash) that can become a concluded matter.

    Its id: the petitioner's eight-byte prefix, then eight bytes of a uuid5 of the pair. Two
    petitioners whose 64-bit prefixes collide (a chance of about n**2 / 2**65 among n
    petitioners) share a range; the reader keeps only the records that carry its key."""

    class Indexed(Aggregate.Created):
        petitioner_key: str
        case_id: UUID

    @staticmethod
    def create_id(petitioner_key: str, case_id: UUID) -> UUID:
        pair = _CASE_IDS.low(f"{petitioner_key}/{case_id}")  # uuid5(…).bytes[8:]
        return UUID(bytes=_petitioner_prefix(petitioner_key) + pair)

    @classmethod
    def indexed(cls, petitioner_key: str, case_id: UUID) -> PetitionerCase.Indexed:
        """The event ``PetitionerCase(petitioner_key, case_id)`` records, to save without the
        aggregate (domain/written_once.py)."""
        return created_event(cls, cls.Indexed, cls.create_id(petitioner_key, case_id),
                             petitioner_key=petitioner_key, case_id=case_id)

    @event(Indexed)
    def __init__(self, petitioner_key: str, case_id: UUID):
        self.petitioner_key = petitioner_key
        self.case_id = case_id
