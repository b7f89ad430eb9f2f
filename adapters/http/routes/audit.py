"""Auditors' routes: a case's trail with its hash chain, its state at an instant, the store's proof."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from adapters.http.auth import Eng, Staff
from adapters.http.params import INSTANT_HELP, Instant, instant_query
from projections.case_trail import case_trail
from workflows import case_reads
from workflows.access import Role, authorize_read
from workflows.case_summary import plain
from workflows.errors import AccessDenied

router = APIRouter(tags=["audit"])
AsOf = instant_query("Only what was recorded by then.")


def _readable(eng: Eng, principal: Any, case_id: UUID) -> None:
    authorize_read(principal, eng.app.get_petition(case_id), eng.app.org)


@router.get("/petitions/{case_id}/history", summary="Every event of a case, hash-chained")
def history(case_id: UUID, principal: Staff, eng: Eng, as_of: AsOf = None
            ) -> dict[str, Any]:
    _readable(eng, principal, case_id)
    return case_trail(eng.app, eng.view("audit_trail"), case_id, as_of=as_of,
                      pii=principal.pii)


@router.get("/petitions/{case_id}/state", summary="The case as it stood at an instant")
def state(case_id: UUID, principal: Staff, eng: Eng,
          as_of: Annotated[Instant, Query(description=INSTANT_HELP)]
          ) -> dict[str, Any]:
    _readable(eng, principal, case_id)
    return case_reads.state_as_of(eng.app, case_id, as_of, pii=principal.pii)


@router.get("/audit/verify", summary="Recompute every case's hash chain from the stored events")
def verify(principal: Staff, eng: Eng) -> dict[str, Any]:
    if principal.role not in (Role.AUDITOR, Role.ADMIN):
        raise AccessDenied("only auditors verify the whole store")
    findings = eng.view("audit_trail").verify(None, application_name=eng.app.name)
    return {"valid": not findings, "findings": [plain(f) for f in findings]}
