"""Finding a petitioner's concluded matter at registration, and keeping the index it reads.

The rule is domain/concluded_matters.py; this module reads the store for it. At registration,
before anything is appended, the petitioner's indexed cases are loaded (the event store, not a
view) and the latest one that is the same matter and concluded is returned: the registration is
then flagged with it. When a case is first answered on a track that owes a review, it joins its
petitioner's index in the same transaction as the ``Answered`` event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from domain.concluded_matters import PetitionerCases, concluded, same_matter
from domain.deadlines import DeadlinePolicy
from domain.petition import Petition
from domain.values import Location
from workflows.query_codes import QueryCodes


def petitioner_key(codes: QueryCodes, id_number: str) -> str:
    """The keyed hash of an ID number: the analytics' ``petitioner_key`` (same derivation)."""
    return codes.derive("petitioner", id_number.strip().upper())


def concluded_earlier(repository: Repository[UUID], policy: DeadlinePolicy, key: str, *,
                      category: str, location: Location, subject: str, content: str,
                      at: datetime) -> UUID | None:
    """The latest earlier case of this petitioner where this matter was concluded, if any."""
    index = _index(repository, key)
    for case_id in reversed(index.case_ids if index else []):
        earlier: Any = repository.get(case_id)
        if not isinstance(earlier, Petition):
            continue
        windows = (policy.review_window(earlier), policy.re_review_window(earlier))
        if same_matter(earlier, category, location, subject, content) \
                and concluded(earlier, windows, at):
            return earlier.id
    return None


def index_answered(repository: Repository[UUID], policy: DeadlinePolicy, codes: QueryCodes,
                   petition: Petition) -> PetitionerCases | None:
    """The petitioner's index with this case added, to save with the answer (None: nothing
    to add — the track owes no review, or the case is indexed already)."""
    if not policy.rules.track_has(petition.handling_track, "review"):
        return None
    key = petitioner_key(codes, petition.petitioner.id_number)
    index = _index(repository, key)
    if index is None:
        return PetitionerCases(petitioner_key=key, case_id=petition.id)
    if petition.id in index.case_ids:
        return None
    index.add(case_id=petition.id)
    return index


def _index(repository: Repository[UUID], key: str) -> PetitionerCases | None:
    try:
        index: PetitionerCases = repository.get(PetitionerCases.create_id(key))
    except AggregateNotFoundError:
        return None
    return index
