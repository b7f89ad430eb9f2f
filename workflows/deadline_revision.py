"""`petition deadlines revise`: bring open obligations' recorded deadlines to the policy in force.

Deadlines are facts recorded when an obligation starts (domain/deadlines.py), so editing
policy.toml or importing a calendar changes only obligations that start afterwards. Applying the
change to running ones is the operator's explicit decision, with a reason: one
``DeadlineRevised`` per open case whose running deadline the policy in force now computes
differently. Closed cases, derived deadlines (events of before version 2, which follow the policy
already) and unchanged ones get nothing. Each case is decided and saved on its own; a lost race
re-reads the case and decides again.

Which cases to look at is the caller's: the open ones from the case view (``projections.
queries.open_cases``, after catching the view up with the log), or those the operator named.
Reading them from the log instead meant loading every case ever registered, closed ones too.
Each candidate is still loaded and decided from its own events, so a view row that is stale
(a case closed since) revises nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.deadlines import Deadline
from domain.derived_times import check_derivable
from domain.errors import DomainError
from workflows.application import PetitionApplication

ACTOR = "operator:deadlines-revise"


@dataclass(frozen=True)
class Revision:
    case_id: UUID
    unit: str
    previous: Deadline
    revised: Deadline


def revise_deadlines(app: PetitionApplication, cases: Iterable[UUID], *, reason: str,
                     unit: str | None = None, dry_run: bool = False,
                     actor: str = ACTOR) -> list[Revision]:
    """Revises each of ``cases`` that is open, within ``unit``'s jurisdiction when given; with
    ``dry_run`` decides the same but appends nothing."""
    if unit is not None:
        app.org.get(unit)  # an unknown unit is an error, not an empty result
    done: list[Revision] = []
    for case_id in cases:
        revision = _revise_one(app, case_id, reason=reason, unit=unit, dry_run=dry_run,
                               actor=actor)
        if revision is not None:
            done.append(revision)
    return done


def _revise_one(app: PetitionApplication, case_id: UUID, *, reason: str, unit: str | None,
                dry_run: bool, actor: str, attempts: int = 3) -> Revision | None:
    for _ in range(attempts):
        petition = app.get_petition(case_id)
        if unit is not None and not app.org.is_within(petition.obligated_unit, unit):
            return None
        at = max(app.clock.now(), petition.last_at)
        previous = app.policy.current(petition)
        try:
            petition.revise_deadline(at=at, actor=actor, reason=reason, policy=app.policy)
            check_derivable(petition, app.policy, app.ladder)
        except DomainError:
            return None  # nothing to revise here: closed, derived, or the same dates
        revised = app.policy.current(petition)
        assert previous is not None and revised is not None  # revise_deadline checked both
        revision = Revision(case_id, petition.obligated_unit, previous, revised)
        if dry_run:
            return revision
        try:
            app.save(petition)
        except IntegrityError:
            continue  # the case moved meanwhile: decide again on its new version
        return revision
    return None
