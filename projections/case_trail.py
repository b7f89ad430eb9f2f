"""A case's audit trail as its readers get it, as plain data: the entries (those recorded by an
instant, if given), whether the hash chain holds, and every finding.

The trail stores each payload as the AUDITOR audience's (``workflows/privacy.py``); a reader
with the pii scope gets the petitioner put back from the case itself (``reveal``), since the
trail keeps no copy of it. Who may read the case is the caller's check, made before this.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from projections.audit_trail import AuditTrail
from projections.source import EventSource
from workflows.case_summary import plain
from workflows.privacy import Audience, reveal, trail_audience


def case_trail(app: EventSource, trail: AuditTrail, case_id: UUID, *,
               as_of: datetime | None = None, pii: bool = False) -> dict[str, Any]:
    """The trail of ``case_id`` (``/petitions/{id}/history``): entries, chain, findings."""
    entries = trail.entries(case_id)
    if as_of is not None:
        entries = [e for e in entries if e["recorded_at"] <= as_of]
    audience = trail_audience(pii)
    originals = {}
    if audience is Audience.AUDITOR_PII:
        originals["petitioner"] = plain(app.get_petition(case_id).petitioner)
    findings = trail.verify(case_id, application_name=app.name)
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
