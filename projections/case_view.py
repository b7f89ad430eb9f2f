"""Case view: one row per case — where it stands, who holds it, and which deadline runs.

No personal data: the petitioner, content, answer and address never reach this table.
Queries return plain dicts; lists are keyset-paginated on (registered_at, case_id).
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.deadlines import DeadlinePolicy
from domain.lifecycle import OPEN_STATUSES
from domain.petition import Petition
from domain.units import OrgChart
from projections.batching import BatchProjection, Item
from projections.case_states import CaseStates, case_key
from projections.cursor import decode, encode
from projections.reach_filter import reach_clause
from projections.view import Row, View, encode_date
from workflows.access import Reach

COLUMNS = (
    "case_id", "status", "responsible_unit", "unit_level", "holder", "district", "street",
    "channel", "category", "handling_track", "speed_track", "co_petitioners", "registered_at",
    "accepted_at", "answered_at", "closed_at", "deadline_kind", "deadline_due_on",
    "deadline_expires_at", "supervision_level", "supervision_count", "rating_attitude",
    "rating_efficiency", "rating_quality", "proxy_agent", "query_code_hash", "version",
    "position", "unsatisfied_pending", "answered_by", "answered_on_time", "deadline_provisional",
    "received_by", "assigned_unit", "concluded_flag",
)
REACH_COLUMNS = {"received_by": "received_by", "holder": "holder",
                 "responsible_unit": "assigned_unit"}
"""Where each case field of the access rule (workflows.access.REACH_FIELDS) is stored."""
_TIME_COLUMNS = ("registered_at", "accepted_at", "answered_at", "closed_at", "deadline_expires_at")


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    unit: str | None = None
    jurisdiction: list[str] | None = None  # located in these units (district or street)
    reach: Reach | None = None  # only cases the access rule lets this reach read
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    unsatisfied_pending: bool | None = None  # the supervisor's "unsatisfied" queue
    concluded_flag: bool | None = None  # intake's queue: flagged concluded matters (不再受理)


_DDL = (
    "CREATE TABLE IF NOT EXISTS {t[case_view]} (case_id TEXT PRIMARY KEY, status TEXT NOT NULL, "
    "responsible_unit TEXT NOT NULL, unit_level TEXT, holder TEXT NOT NULL, district TEXT, "
    "street TEXT, channel TEXT, category TEXT, handling_track TEXT, speed_track TEXT, "
    "co_petitioners INTEGER, registered_at {ts} NOT NULL, accepted_at {ts}, answered_at {ts}, "
    "closed_at {ts}, deadline_kind TEXT, deadline_due_on TEXT, deadline_expires_at {ts}, "
    "supervision_level TEXT, supervision_count INTEGER, rating_attitude TEXT, "
    "rating_efficiency TEXT, rating_quality TEXT, proxy_agent TEXT, query_code_hash TEXT, "
    "version INTEGER NOT NULL, position BIGINT NOT NULL, unsatisfied_pending INTEGER NOT NULL, "
    "answered_by TEXT, answered_on_time INTEGER, deadline_provisional INTEGER, received_by TEXT, "
    "assigned_unit TEXT, concluded_flag TEXT)",
    "CREATE INDEX IF NOT EXISTS case_view_unsatisfied ON {t[case_view]} "
    "(unsatisfied_pending, registered_at, case_id)",
    "CREATE INDEX IF NOT EXISTS case_view_registered ON {t[case_view]} (registered_at, case_id)",
    "CREATE INDEX IF NOT EXISTS case_view_status ON {t[case_view]} "
    "(status, registered_at, case_id)",
    "CREATE INDEX IF NOT EXISTS case_view_unit ON {t[case_view]} "
    "(responsible_unit, registered_at, case_id)",
    "CREATE INDEX IF NOT EXISTS case_view_district ON {t[case_view]} (district, registered_at)",
    "CREATE INDEX IF NOT EXISTS case_view_street ON {t[case_view]} (street, registered_at)",
    "CREATE INDEX IF NOT EXISTS case_view_code ON {t[case_view]} (query_code_hash)",
    # the per-unit dashboard's two GROUP BYs read these alone (unit_figures)
    "CREATE INDEX IF NOT EXISTS case_view_unit_figures ON {t[case_view]} "
    "(responsible_unit, status, deadline_kind, deadline_expires_at)",
    "CREATE INDEX IF NOT EXISTS case_view_answered_by ON {t[case_view]} "
    "(answered_by, answered_on_time, unsatisfied_pending) WHERE answered_by IS NOT NULL",
)


class CaseView(View, ABC):
    DDL = _DDL
    name = "case_view"
    tables = ("case_view",)
    schema_version = 6  # 3: deadline_provisional; 4: received_by, assigned_unit (the reach);
    adds_indexes_to = frozenset({4})  # 5: the per-unit figures' indexes; 6: concluded_flag

    # ------------------------------------------------------------------ writes
    def save(self, rows: list[Row]) -> None:
        """Upserts case rows (inside the caller's batch)."""
        values = [[self.encode_time(row[c]) if c in _TIME_COLUMNS else row[c] for c in COLUMNS]
                  for row in rows]
        with self.batch() as c:
            self.upsert_rows(c, "case_view", COLUMNS, values)

    # ------------------------------------------------------------------ queries
    def get(self, case_id: Any) -> Row | None:
        rows = self.query(f"SELECT * FROM {self.table('case_view')} WHERE case_id = ?",
                          (case_key(case_id),))
        return self._out(rows[0]) if rows else None

    def by_query_code_hash(self, code_hash: str) -> Row | None:
        rows = self.query(f"SELECT * FROM {self.table('case_view')} WHERE query_code_hash = ?",
                          (code_hash,))
        return self._out(rows[0]) if rows else None

    def list_cases(self, where: CaseFilter = CaseFilter(), *, limit: int = 50,
             cursor: str | None = None) -> tuple[list[Row], str | None]:
        """A page of cases by registration time, and the cursor of the next page (or None)."""
        clauses, params = self._clauses(where)
        if cursor:
            after_at, after_id = decode(cursor, datetime, str)
            clauses.append("(registered_at > ? OR (registered_at = ? AND case_id > ?))")
            at = self.encode_time(after_at)
            params += [at, at, after_id]
        sql = f"SELECT * FROM {self.table('case_view')}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY registered_at, case_id LIMIT ?"
        rows = [self._out(r) for r in self.query(sql, (*params, limit + 1))]
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode(last["registered_at"], last["case_id"])

    def open_case_ids(self, units: list[str] | None = None) -> list[str]:
        """The open cases (not closed, declined or withdrawn) by registration, only those owed
        by one of ``units`` when given: the cases a running deadline can be revised on."""
        statuses = sorted(s.value for s in OPEN_STATUSES)
        sql = (f"SELECT case_id FROM {self.table('case_view')} "
               f"WHERE status IN ({', '.join('?' for _ in statuses)})")
        params: list[Any] = list(statuses)
        if units is not None:
            sql += f" AND responsible_unit IN ({', '.join('?' for _ in units) or 'NULL'})"
            params += units
        return [row["case_id"] for row in self.query(sql + " ORDER BY registered_at, case_id",
                                                     tuple(params))]

    def unit_figures(self, now: datetime, closed: Collection[str], chased: Collection[str]
                     ) -> tuple[list[Row], list[Row]]:
        """Per-unit counts by two GROUP BYs over their indexes (never the rows in Python):
        per responsible unit, ``open`` (not ``closed``) and ``overdue`` (open, a ``chased``
        deadline expired by ``now``); per answering unit, ``answered``, ``answered_on_time``
        and ``unsatisfied``."""
        t = self.table("case_view")
        shut = ", ".join("?" for _ in closed) or "NULL"
        kinds = ", ".join("?" for _ in chased) or "NULL"
        where = self.query(
            f"SELECT responsible_unit AS unit, "
            f"SUM(CASE WHEN status NOT IN ({shut}) THEN 1 ELSE 0 END) AS open, "
            f"SUM(CASE WHEN status NOT IN ({shut}) AND deadline_kind IN ({kinds}) "
            f"AND deadline_expires_at <= ? THEN 1 ELSE 0 END) AS overdue "
            f"FROM {t} GROUP BY responsible_unit",
            (*closed, *closed, *chased, self.encode_time(now)))
        answered = self.query(
            f"SELECT answered_by AS unit, COUNT(*) AS answered, "
            f"SUM(answered_on_time) AS answered_on_time, SUM(unsatisfied_pending) AS unsatisfied "
            f"FROM {t} WHERE answered_by IS NOT NULL AND answered_by <> '' "
            f"AND answered_on_time IS NOT NULL GROUP BY answered_by")
        return where, answered

    def _clauses(self, where: CaseFilter) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if where.status:
            clauses.append("status = ?")
            params.append(where.status)
        if where.unit:
            clauses.append("responsible_unit = ?")
            params.append(where.unit)
        if where.jurisdiction is not None:
            marks = ", ".join("?" for _ in where.jurisdiction) or "NULL"
            clauses.append(f"(district IN ({marks}) OR street IN ({marks}))")
            params += [*where.jurisdiction, *where.jurisdiction]
        if where.reach is not None:
            clause, values = reach_clause(where.reach, REACH_COLUMNS)
            clauses.append(clause)
            params += values
        if where.unsatisfied_pending is not None:
            clauses.append("unsatisfied_pending = ?")
            params.append(int(where.unsatisfied_pending))
        if where.concluded_flag is not None:
            clauses.append(f"concluded_flag IS {'NOT ' if where.concluded_flag else ''}NULL")
        if where.registered_from:
            clauses.append("registered_at >= ?")
            params.append(self.encode_time(where.registered_from))
        if where.registered_to:
            clauses.append("registered_at < ?")
            params.append(self.encode_time(where.registered_to))
        return clauses, params

    def _out(self, row: Row) -> Row:
        out = dict(row)
        for c in _TIME_COLUMNS:
            out[c] = self.decode_time(out[c])
        if out.get("deadline_provisional") is not None:
            out["deadline_provisional"] = bool(out["deadline_provisional"])
        return out


class CaseViewProjection(BatchProjection):
    name = "case_view"

    def __init__(self, view: CaseView, *, policy: DeadlinePolicy, org: OrgChart,
                 states: CaseStates):
        super().__init__(view)
        self.policy, self.org, self.states = policy, org, states

    def prepare(self, items: Sequence[Item]) -> list[Row]:
        return [self.row(petition, position)
                for petition, position in self.states.latest_of(items).values()]

    def write(self, prepared: list[Row]) -> None:
        self.view.save(prepared)

    def row(self, s: Petition, position: int) -> Row:
        deadline = self.policy.current(s)
        unit = s.obligated_unit
        ratings = s.ratings
        return {
            "case_id": case_key(s.id), "status": s.status.value, "responsible_unit": unit,
            "unit_level": self.org.get(unit).level.value if unit in self.org else None,
            "holder": s.holder, "district": s.location.district, "street": s.location.street,
            "channel": s.channel.value, "category": s.category,
            "handling_track": s.handling_track.value if s.handling_track else None,
            "speed_track": s.speed_track.value if s.speed_track else None,
            "co_petitioners": s.co_petitioners, "registered_at": s.received_at,
            "accepted_at": s.accepted_at, "answered_at": s.answered_at, "closed_at": s.closed_at,
            "deadline_kind": deadline.kind.value if deadline else None,
            "deadline_due_on": encode_date(deadline.due_on if deadline else None),
            "deadline_expires_at": deadline.expires_at if deadline else None,
            "supervision_level": s.supervision_level.value if s.supervision_level else None,
            "supervision_count": s.supervision_count,
            "rating_attitude": ratings.attitude.value if ratings else None,
            "rating_efficiency": ratings.efficiency.value if ratings else None,
            "rating_quality": ratings.quality.value if ratings else None,
            "proxy_agent": s.proxy_agent, "query_code_hash": s.query_code_hash,
            "version": s.version, "position": position,
            "unsatisfied_pending": int(s.unsatisfied_pending), "answered_by": s.answered_by,
            "answered_on_time": self._on_time(s),
            "deadline_provisional": int(deadline.provisional) if deadline else None,
            "received_by": s.received_by, "assigned_unit": s.responsible_unit,
            "concluded_flag": s.concluded_flag,
        }

    def _on_time(self, s: Petition) -> int | None:
        """Was the latest answer given before its deadline expired? (None: no answer yet)."""
        if s.answered_at is None:
            return None
        deadline = self.policy.answer_deadline(s)
        return None if deadline is None else int(s.answered_at < deadline.expires_at)
