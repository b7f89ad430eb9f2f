"""Closed-loop supervision queue: one row per open obligation, with its deadline and unit.

Obligations are the DeadlinePolicy's open deadlines of a case (acceptance decision, answer,
review and re-review decisions, the petitioner's request windows, the proxy's weekly
contact, the response to the earliest open suggestion 三项建议权); a case's rows are replaced
on each of its events. ``unit`` is the unit that owes the step (the proxy agent for proxy
contact, the addressed unit for a suggestion); ``unit_path`` is the materialised org path of
the obligated unit ("/QH/QH-D01/QH-D01-S01/"), so a whole jurisdiction is one index range.
Queries are keyset-paginated on (expires_at, case_id, kind): the most overdue first.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from domain.deadlines import DeadlineKind, DeadlinePolicy
from domain.petition import Petition
from domain.units import OrgChart
from projections.batching import BatchProjection, Item
from projections.case_states import CaseStates, case_key
from projections.cursor import decode, encode
from projections.reach_filter import reach_clause
from projections.view import POSTGRES, Row, View, encode_date
from workflows.access import Reach

PETITIONER_WINDOWS = (DeadlineKind.REVIEW_REQUEST, DeadlineKind.RE_REVIEW_REQUEST)
"""The petitioner's own windows: tracked by the case view, not obligations of a unit."""

OBLIGATION_COLUMNS = ("case_id", "kind", "unit", "unit_path", "starts_at", "due_on",
                      "expires_at", "status", "position", "provisional", "received_by",
                      "holder", "assigned_unit")
REACH_COLUMNS = {"received_by": "received_by", "holder": "holder",
                 "responsible_unit": "assigned_unit"}
"""The case's units of the access rule, on each obligation, so queues cut as reads do."""


def unit_path(org: OrgChart, unit: str) -> str:
    if unit not in org:
        return f"/{unit}/"
    return "/" + "/".join([*reversed(org.ancestors(unit)), unit]) + "/"


def path_range(path: str) -> tuple[str, str]:
    """Every path starting with ``path``: [path, path + U+FFFF)."""
    return path, path + "\uffff"


_DDL = (
    "CREATE TABLE IF NOT EXISTS {t[supervision_queue]} (case_id TEXT NOT NULL, kind TEXT NOT "
    "NULL, unit TEXT NOT NULL, unit_path TEXT {c} NOT NULL, starts_at {ts} NOT NULL, due_on TEXT "
    "NOT NULL, expires_at {ts} NOT NULL, status TEXT NOT NULL, position BIGINT NOT NULL, "
    "provisional INTEGER NOT NULL DEFAULT 0, received_by TEXT, holder TEXT, assigned_unit TEXT, "
    "PRIMARY KEY (case_id, kind))",
    "CREATE INDEX IF NOT EXISTS supervision_queue_expires ON {t[supervision_queue]} "
    "(expires_at, case_id, kind)",
    "CREATE INDEX IF NOT EXISTS supervision_queue_unit ON {t[supervision_queue]} "
    "(unit, expires_at, case_id, kind)",
    "CREATE INDEX IF NOT EXISTS supervision_queue_path ON {t[supervision_queue]} "
    "(unit_path, expires_at)",
)


class SupervisionQueue(View, ABC):
    DDL = _DDL

    @classmethod
    def ddl_for(cls, dialect: str) -> tuple[str, ...]:
        """Unit paths compare byte-wise on PostgreSQL too (prefix ranges: ``reach_filter``)."""
        collate = ' COLLATE "C"' if dialect == POSTGRES else ""
        return tuple(s.replace(" {c}", collate) for s in super().ddl_for(dialect))
    name = "supervision_queue"
    tables = ("supervision_queue",)
    schema_version = 3  # 2: provisional; 3: received_by, holder, assigned_unit (the reach)

    # ------------------------------------------------------------------ writes
    def replace(self, obligations: dict[str, list[Row]]) -> None:
        """Replaces the obligations of the given cases (inside the caller's batch)."""
        with self.batch() as c:
            self.delete_where_in(c, "supervision_queue", "case_id", list(obligations))
            self.insert_obligations(c, [o for rows in obligations.values() for o in rows])

    def insert_obligations(self, c: Any, obligations: list[Row]) -> None:
        self.insert_rows(c, "supervision_queue", OBLIGATION_COLUMNS,
                         [[self._encode(col, o[col]) for col in OBLIGATION_COLUMNS]
                          for o in obligations])

    def _encode(self, column: str, value: Any) -> Any:
        return self.encode_time(value) if column in ("starts_at", "expires_at") else value

    # ------------------------------------------------------------------ queries
    def overdue(self, as_of: datetime, *, unit: str | None = None, path: str | None = None,
                limit: int = 50, cursor: str | None = None, reach: Reach | None = None
                ) -> tuple[list[Row], str | None]:
        """Obligations whose deadline expired at or before ``as_of``, most overdue first."""
        return self._page(None, as_of, unit, path, limit, cursor, as_of, reach)

    def due_within(self, now: datetime, days: int, *, unit: str | None = None,
                   path: str | None = None, limit: int = 50,
                   cursor: str | None = None, reach: Reach | None = None
                   ) -> tuple[list[Row], str | None]:
        """Obligations not yet overdue at ``now`` that expire within ``days`` days."""
        return self._page(now, now + timedelta(days=days), unit, path, limit, cursor, now, reach)

    def _page(self, after: datetime | None, until: datetime, unit: str | None,
              path: str | None, limit: int, cursor: str | None,
              now: datetime, reach: Reach | None = None) -> tuple[list[Row], str | None]:
        clauses, params = ["expires_at <= ?"], [self.encode_time(until)]
        if reach is not None:
            clause, values = reach_clause(reach, REACH_COLUMNS)
            clauses.append(clause)
            params += values
        if after is not None:
            clauses.append("expires_at > ?")
            params.append(self.encode_time(after))
        if unit:
            clauses.append("unit = ?")
            params.append(unit)
        if path:
            low, high = path_range(path)
            clauses.append("unit_path >= ? AND unit_path < ?")
            params += [low, high]
        if cursor:
            at, cid, kind = decode(cursor, datetime, str, str)
            clauses.append("(expires_at, case_id, kind) > (?, ?, ?)")
            params += [self.encode_time(at), cid, kind]
        sql = (f"SELECT * FROM {self.table('supervision_queue')} WHERE {' AND '.join(clauses)} "
               "ORDER BY expires_at, case_id, kind LIMIT ?")
        rows = [self._out(r, now) for r in self.query(sql, (*params, limit + 1))]
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode(last["expires_at"], last["case_id"], last["kind"])

    def _out(self, row: Row, now: datetime) -> Row:
        row["starts_at"] = self.decode_time(row["starts_at"])
        row["expires_at"] = self.decode_time(row["expires_at"])
        assert row["expires_at"] is not None
        row["overdue_by"] = now - row["expires_at"] if row["expires_at"] <= now else None
        row["provisional"] = bool(row["provisional"])
        return row

    def obligations_of(self, case_id: Any) -> list[Row]:
        rows = self.query(f"SELECT * FROM {self.table('supervision_queue')} WHERE case_id = ? "
                          "ORDER BY kind", (case_key(case_id),))
        for row in rows:
            row["starts_at"] = self.decode_time(row["starts_at"])
            row["expires_at"] = self.decode_time(row["expires_at"])
            row["provisional"] = bool(row["provisional"])
        return rows


class SupervisionQueueProjection(BatchProjection):
    name = "supervision_queue"

    def __init__(self, view: SupervisionQueue, *, policy: DeadlinePolicy, org: OrgChart,
                 states: CaseStates):
        super().__init__(view)
        self.policy, self.org, self.states = policy, org, states

    def prepare(self, items: Sequence[Item]) -> dict[str, list[Row]]:
        return {case_id: self.obligations(petition, position)
                for case_id, (petition, position) in self.states.latest_of(items).items()}

    def write(self, prepared: dict[str, list[Row]]) -> None:
        self.view.replace(prepared)

    def obligations(self, s: Petition, position: int) -> list[Row]:
        obligated = s.obligated_unit
        path = unit_path(self.org, obligated)
        owed_by = {DeadlineKind.PROXY_CONTACT: (s.proxy_agent, path)}
        if s.open_suggestions:  # the earliest open suggestion's addressee responds
            _, (unit, _) = min(s.open_suggestions.items(), key=lambda item: item[1][1])
            owed_by[DeadlineKind.SUGGESTION_RESPONSE] = (unit, unit_path(self.org, unit))
        return [
            {"case_id": case_key(s.id), "kind": d.kind.value,
             "unit": owed_by.get(d.kind, (obligated, path))[0],
             "unit_path": owed_by.get(d.kind, (obligated, path))[1],
             "starts_at": d.starts_at, "due_on": encode_date(d.due_on),
             "expires_at": d.expires_at, "status": s.status.value, "position": position,
             "provisional": int(d.provisional),
             "received_by": s.received_by, "holder": s.holder,
             "assigned_unit": s.responsible_unit}
            for d in self.policy.open_deadlines(s) if d.kind not in PETITIONER_WINDOWS
        ]
