"""Per-unit performance for supervisors (网上督): open, overdue, on-time answers, measures, unsatisfied.

Counted in SQL: two GROUP BYs over the case view's indexes and two over the audit trail's
type index (``CaseView.unit_figures``, ``AuditTrail.counts_by``), so a request reads one row
per unit rather than every case into Python.
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
FIGURES = ("open", "overdue", "answered", "answered_on_time", "measures", "escalated_away",
           "unsatisfied")


def unit_stats(cases: CaseView, trail: AuditTrail, now: datetime,
               units: Iterable[str] | None = None) -> list[dict[str, Any]]:
    wanted = set(units) if units is not None else None
    stats: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    # open/overdue count where a case is now; answers, their timeliness and the petitioner's
    # dissatisfaction count for the unit that answered; measures for the unit they went to.
    where, answered = cases.unit_figures(now, sorted(CLOSED), sorted(CHASED))
    for row in where:
        stats[row["unit"]].update(open=int(row["open"]), overdue=int(row["overdue"]))
    for row in answered:
        stats[row["unit"]].update(answered=int(row["answered"]),
                                  answered_on_time=int(row["answered_on_time"]),
                                  unsatisfied=int(row["unsatisfied"]))
    for unit, n in trail.counts_by("SupervisionIssued", "unit").items():
        stats[unit]["measures"] += n
    for unit, n in trail.counts_by("Escalated", "from_unit").items():
        stats[unit]["escalated_away"] += n
    out = []
    for unit, s in sorted(stats.items()):
        if wanted is not None and unit not in wanted:
            continue
        rate = s["answered_on_time"] / s["answered"] if s["answered"] else None
        out.append({"unit": unit, **s, "on_time_rate": None if rate is None else round(rate, 3)})
    return out
