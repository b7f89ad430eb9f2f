"""Auditors' routes: a case's trail with its hash chain, its state at an instant, the store's proof."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from adapters.http.auth import Eng, Staff
from adapters.http.params import INSTANT_HELP, Instant, instant_query
from workflows import case_reads
from workflows.access import Role, authorize_read
from workflows.case_summary import plain
from workflows.errors import AccessDenied
from workflows.privacy import Audience, reveal, trail_audience

router = APIRouter(tags=["audit"])
AsOf = instant_query("Only what was recorded by then.")


def _readable(eng: Eng, principal: Any, case_id: UUID) -> None:
    authorize_read(principal, eng.app.get_petition(case_id), eng.app.org)


@router.get("/petitions/{case_id}/history", summary="Every event of a case, hash-chained")
def history(case_id: UUID, principal: Staff, eng: Eng, as_of: AsOf = None
            ) -> dict[str, Any]:
    _readable(eng, principal, case_id)
    trail = eng.view("audit_trail")
    entries = trail.entries(case_id)
    if as_of is not None:
        entries = [e for e in entries if e["recorded_at"] <= as_of]
    audience = trail_audience(principal.pii)
    originals = {}
    if audience is Audience.AUDITOR_PII:
        originals["petitioner"] = plain(eng.app.get_petition(case_id).petitioner)
    findings = trail.verify(case_id, application_name=eng.app.name)
    return {
        "case_id": str(case_id),
        "chain_valid": not findings,
        "findings": [plain(f) for f in findings],
        "entries": [_entry(e, audience, originals) for e in entries],
    }


def _entry(entry: dict[str, Any], audience: Audience, originals: dict[str, Any]
           ) -> dict[str, Any]:
    out = {k: plain(v) for k, v in entry.items()}
    if isinstance(out.get("payload"), dict):  # stored as the AUDITOR's; older rows had more
        out["payload"] = reveal(audience, out["payload"], originals)
    return out


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
