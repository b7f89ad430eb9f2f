"""`petition index backfill`: give every case answered before the index existed its record.

A case enters the concluded-matter index (不再受理) when it is first answered on a track that
owes a review (workflows/concluded_matters.py); a case answered before the index existed was
never entered, so the same matter brought again would not be flagged. Reading every answered
case at each registration would make registration as slow as the log is long, so the gap is
closed once, by the operator: this walks the log's ``Answered`` events (a topic scan, not every
case), loads each answered case once, and saves the record it lacks, a batch at a time, with
the same ``record_of`` decision an answer makes. Re-running it adds nothing new; it may run
while the engine answers cases (a record an answer wrote meanwhile is skipped, not doubled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.concluded_matters import PetitionerCase
from domain.events import Answered
from workflows.application import PetitionApplication
from workflows.concluded_matters import notifications

ANSWERED_TOPIC = get_topic(Answered)
BATCH = 200


@dataclass(frozen=True)
class BackfillProgress:
    answered: int  # answered cases read so far
    indexed: int  # records added (or, in a dry run, that would be)


def backfill_index(app: PetitionApplication, *, dry_run: bool = False, batch: int = BATCH,
                   progress: Callable[[BackfillProgress], None] | None = None
                   ) -> BackfillProgress:
    """Adds the missing record of every answered case; ``progress`` hears after each batch."""
    if app.query_codes is None:
        raise RuntimeError("backfilling the index needs the query-code key")
    seen: set[UUID] = set()
    pending: list[PetitionerCase.Indexed] = []
    indexed = 0
    for stored in notifications(app.recorder, ANSWERED_TOPIC):
        case_id = UUID(str(stored.originator_id))
        if case_id in seen:
            continue
        seen.add(case_id)
        record = app.concluded_matters.record_of(app.policy, app.query_codes,
                                                 app.get_petition(case_id))
        if record is not None:
            pending.append(record)
        if len(seen) % batch == 0:
            indexed += _save(app, pending, dry_run)
            pending = []
            if progress is not None:
                progress(BackfillProgress(len(seen), indexed))
    indexed += _save(app, pending, dry_run)
    done = BackfillProgress(len(seen), indexed)
    if progress is not None:
        progress(done)
    return done


def _save(app: PetitionApplication, records: list[PetitionerCase.Indexed], dry_run: bool
          ) -> int:
    """Saves the batch in one write; if an answer wrote one of its records meanwhile, each on
    its own, skipping the ones that exist now."""
    if dry_run or not records:
        return len(records)
    try:
        app.save(*records)
        return len(records)
    except IntegrityError:  # a save takes the records' events: each is made again
        return sum(_save_one(app, r.petitioner_key, r.case_id) for r in records)


def _save_one(app: PetitionApplication, key: str, case_id: UUID) -> int:
    try:
        app.save(PetitionerCase.indexed(key, case_id))
    except IntegrityError:
        return 0  # written by the case's own answer meanwhile
    return 1
