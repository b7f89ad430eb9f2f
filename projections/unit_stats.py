"""Per-unit performance for supervisors (网上督): open, overdue, on-time answers, measures, unsatisfied.

Computed from the case view and the audit trail by scanning: a dashboard query over all cases,
not a hot path, so it is not index-backed like the supervision queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.supervision_ladder import CHASED_KINDS
from projections.audit_trail import AuditTrail
from projections.case_view import CaseView

CLOSED = frozenset({"closed", "declined", "withdrawn"})
CHASED = frozenset(k.value for k in CHASED_KINDS)


def unit_stats(cases: CaseView, trail: AuditTrail, now: datetime,
               units: Iterable[str] | None = None) -> list[dict[str, Any]]:
    wanted = set(units) if units is not None else None
    stats: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "open": 0, "overdue": 0, "answered": 0, "answered_on_time": 0, "measures": 0,
        "escalated_away": 0, "unsatisfied": 0})
    # open/overdue count where a case is now; answers, their timeliness and the petitioner's
    # dissatisfaction count for the unit that answered; measures for the unit they went to.
    for row in cases.unit_rows():
        s = stats[row["responsible_unit"]]
        if row["status"] not in CLOSED:
            s["open"] += 1
            expires = row["deadline_expires_at"]
            if row["deadline_kind"] in CHASED and expires is not None and expires <= now:
                s["overdue"] += 1
        if row["answered_on_time"] is not None and row["answered_by"]:
            answered = stats[row["answered_by"]]
            answered["answered"] += 1
            answered["answered_on_time"] += row["answered_on_time"]
            answered["unsatisfied"] += row["unsatisfied_pending"]
    for payload in trail.payloads("SupervisionIssued"):
        stats[payload["unit"]]["measures"] += 1
    for payload in trail.payloads("Escalated"):
        stats[payload["from_unit"]]["escalated_away"] += 1
    out = []
    for unit, s in sorted(stats.items()):
        if wanted is not None and unit not in wanted:
            continue
        rate = s["answered_on_time"] / s["answered"] if s["answered"] else None
        out.append({"unit": unit, **s, "on_time_rate": None if rate is None else round(rate, 3)})
    return out
