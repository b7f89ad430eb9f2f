"""The analysis view: one fact row per case (``analysis_facts.py``), for indicators and the index.

Like the other views it advances the Petition aggregate by each event and writes its rows and
its tracking position in one transaction, so it is exactly-once and rebuildable. Facts need a
case's history, not only its state, so the projection keeps the facts beside the aggregate in
its own small cache; a case it has not seen at the version before an event is replayed from
the event store up to that version — never read back from the view, whose last rows may still
be waiting to commit during a catch-up.
"""

from __future__ import annotations

from abc import ABC
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import EventStore

from domain import events as ev
from domain.business_time import shifted
from domain.deadlines import DeadlinePolicy
from domain.petition import Petition
from domain.units import OrgChart
from projections.analysis_facts import COLUMNS, TIME_COLUMNS, CaseFacts, fold
from projections.analysis_rollups import (
    ALL_COUNTERS,
    DAY_KEY,
    KEY,
    Deltas,
    aggregate,
    pieces,
    repeats,
)
from projections.batching import BatchProjection, Item
from projections.indicators import REPEAT_WINDOW
from projections.periods import Period
from projections.view import POSTGRES, Row, View
from workflows.query_codes import QueryCodes

_TIMES = frozenset(TIME_COLUMNS)


class CaseHistorySource(Protocol):
    """What the analysis projection reads besides the events it is handed: a case's stored
    events (to replay one it has not cached) and the query-code key (for petitioner keys).
    ``PetitionApplication`` is one; the projection takes this, not the application."""

    events: EventStore[UUID]
    query_codes: QueryCodes | None


def petitioner_key_for(app: CaseHistorySource) -> Any:
    """The keyed hash of an ID number (never the number): the query-code key under its own
    derivation label, so the same person gets the same key and nobody without the server key
    can test a guessed ID number against the view. ``None`` without a query-code key."""
    codes = app.query_codes
    if codes is None:
        return lambda _id_number: None
    return lambda id_number: codes.derive("petitioner", id_number.strip().upper())


_COUNTER_COLUMNS = ", ".join(f"{c} BIGINT NOT NULL DEFAULT 0" for c in ALL_COUNTERS)
_DDL = (
    "CREATE TABLE IF NOT EXISTS {t[analysis_facts]} (case_id TEXT PRIMARY KEY, status TEXT NOT "
    "NULL, received_by TEXT NOT NULL, district TEXT NOT NULL, street TEXT, channel TEXT NOT NULL, "
    "category TEXT NOT NULL, co_petitioners INTEGER NOT NULL, petitioner_key TEXT, "
    "registered_at {ts} NOT NULL, acceptance_expires_at {ts} NOT NULL, lat DOUBLE PRECISION, "
    "lon DOUBLE PRECISION, decided_at {ts}, "
    "accepted INTEGER, first_answered_at {ts}, first_answer_expires_at {ts}, "
    "first_answered_by TEXT, answered_by TEXT, extended INTEGER NOT NULL, escalated INTEGER NOT "
    "NULL, supervision_count INTEGER NOT NULL, reopen_count INTEGER NOT NULL, confirmed INTEGER "
    "NOT NULL, first_attitude TEXT, first_efficiency TEXT, first_quality TEXT, first_rated_at "
    "{ts}, last_attitude TEXT, last_efficiency TEXT, last_quality TEXT, last_rated_at {ts}, "
    "rated_unit TEXT, comment_sentiment TEXT, review_requested_at {ts}, review_outcome TEXT, "
    "re_review_requested_at {ts}, re_review_outcome TEXT, closed_at {ts}, "
    "proxied INTEGER NOT NULL, proxy_missed_weeks INTEGER NOT NULL, suggestions INTEGER NOT NULL, "
    "suggestions_responded INTEGER NOT NULL, leader_received_at {ts}, "
    "repeated INTEGER NOT NULL DEFAULT 0, position BIGINT NOT NULL)",
    *(f"CREATE INDEX IF NOT EXISTS analysis_facts_{c} ON {{t[analysis_facts]}} ({c})"
      for c in ("registered_at", "first_answered_at", "first_rated_at", "last_rated_at",
                "review_requested_at", "re_review_requested_at")),
    "CREATE INDEX IF NOT EXISTS analysis_facts_petitioner ON {t[analysis_facts]} "
    "(petitioner_key, registered_at)",
    # the open backlog: the one figure that depends on the moment asked reads only these
    "CREATE INDEX IF NOT EXISTS analysis_facts_undecided ON {t[analysis_facts]} "
    "(registered_at) WHERE decided_at IS NULL",
    "CREATE TABLE IF NOT EXISTS {t[analysis_rollup]} (cohort TEXT NOT NULL, grain TEXT NOT NULL, "
    "bucket TEXT NOT NULL, received_by TEXT NOT NULL, district TEXT NOT NULL, street TEXT NOT "
    f"NULL, extra TEXT NOT NULL, {_COUNTER_COLUMNS}, PRIMARY KEY (grain, bucket, cohort, "
    "received_by, district, street, extra))",
    "CREATE TABLE IF NOT EXISTS {t[analysis_rollup_days]} (grain TEXT NOT NULL, bucket TEXT NOT "
    "NULL, received_by TEXT NOT NULL, district TEXT NOT NULL, street TEXT NOT NULL, days INTEGER "
    "NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (grain, bucket, received_by, district, street, "
    "days))",
)
_CHUNK = 500
_WRITTEN = tuple(c for c in COLUMNS if c != "repeated")  # the view settles that one


class AnalysisView(View, ABC):
    DDL = _DDL
    name = "analysis_facts"
    tables = ("analysis_facts", "analysis_rollup", "analysis_rollup_days")
    schema_version = 4  # 2: proxied, proxy_missed_weeks, suggestions, suggestions_responded;
    # 3: leader_received_at; 4: repeated and the roll-ups (analysis_rollups.py)

    def save(self, rows: list[Row], deltas: Deltas | None = None,
             fresh: set[str] | None = None) -> None:
        """Writes the batch's fact rows and adds the roll-up deltas the projection computed
        (``AnalysisProjection.prepare``), all in the caller's transaction with the position.
        The repeat flag (``repeated``) is never overwritten by a row: it depends on the
        petitioner's other cases, so it is settled here, after the rows are written, for the
        cases registered in the batch (``fresh``) and those they make repeats."""
        deltas = deltas or Deltas()
        with self.batch() as c:
            values = [[self.encode_time(r[c]) if c in _TIMES else r[c] for c in _WRITTEN]
                      for r in rows]
            self.upsert_rows(c, "analysis_facts", _WRITTEN, values)
            fresh_rows = [r for r in rows if r["case_id"] in (fresh or ()) and
                          r["petitioner_key"]]
            if fresh_rows:
                self._mark_repeats(c, fresh_rows, deltas)
            self._add(c, deltas)

    def _mark_repeats(self, c: Any, fresh: list[Row], deltas: Deltas) -> None:
        """Recomputes the repeat flag (``analysis_rollups.repeats``) of the fresh cases'
        petitioners' cases registered from the first fresh one to a year after the last — the
        only ones a new case can change — reading their cases from a year before; writes the
        changed flags and moves the ``repeated`` counters of their registration buckets.
        Costs the petitioners' cases of those two years (a petitioner with thousands of cases
        makes a batch slower, not wrong)."""
        keys = sorted({r["petitioner_key"] for r in fresh})
        times = [r["registered_at"] for r in fresh]
        since, until = shifted(min(times), -REPEAT_WINDOW), shifted(max(times), REPEAT_WINDOW)
        group: dict[str, Row] = {}
        for row in self._cases_of(keys, since, until):
            row["registered_at"] = self.decode_time(row["registered_at"])
            group[row["case_id"]] = row
        # a case registered before every fresh one cannot have changed, and its own earlier
        # case may lie outside the window read
        first = min(times)
        changed = [(case_id, repeated) for case_id, repeated in repeats(group.values()).items()
                   if group[case_id]["registered_at"] >= first
                   and group[case_id]["repeated"] != repeated]
        self.executemany(c, f"UPDATE {self.table('analysis_facts')} SET repeated = ? "
                            "WHERE case_id = ?", [(flag, case_id) for case_id, flag in changed])
        for case_id, flag in changed:
            deltas.repeated(group[case_id], flag - group[case_id]["repeated"])

    def _cases_of(self, keys: list[str], since: datetime, until: datetime) -> list[Row]:
        """The cases of these petitioner keys registered in [since, until].

        On PostgreSQL each key is looked up in the (petitioner_key, registered_at) index: with
        the keys as an ``IN`` list, a table without statistics (a rebuild's, autovacuum off
        or not yet run) was read through the registered_at index instead — every case in the
        two years, so each batch read more of the view than the last."""
        columns = ("case_id, petitioner_key, category, registered_at, repeated, received_by, "
                   "district, street")
        table, bounds = self.table("analysis_facts"), (self.encode_time(since),
                                                        self.encode_time(until))
        if self.dialect == POSTGRES:
            return self.query(
                f"SELECT f.* FROM unnest(?::text[]) AS k(key) CROSS JOIN LATERAL (SELECT "
                f"{columns} FROM {table} WHERE petitioner_key = k.key AND registered_at >= ? "
                "AND registered_at <= ? ORDER BY petitioner_key, registered_at) AS f",
                (keys, *bounds))
        rows: list[Row] = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            rows += self.query(
                f"SELECT {columns} FROM {table} WHERE petitioner_key IN "
                f"({', '.join('?' for _ in chunk)}) AND registered_at >= ? AND registered_at <= ?",
                (*chunk, *bounds))
        return rows

    def _add(self, c: Any, deltas: Deltas) -> None:
        """Adds the deltas to the roll-ups; a key whose count falls to zero is deleted, so the
        tables hold the same rows however the history was cut into batches."""
        rows = deltas.rows()  # a cohort's row adds 0 to the counters of the others
        self.add_rows(c, "analysis_rollup", KEY, ALL_COUNTERS,
                      [(*key, *counts) for key, counts in rows])
        emptied = [key for key, counts in rows if counts[0] < 0]  # n, the first counter
        self.executemany(c, f"DELETE FROM {self.table('analysis_rollup')} WHERE n = 0 AND "
                            f"{' AND '.join(f'{k} = ?' for k in KEY)}", emptied)
        days = [(*key, n) for key, n in deltas.days.items() if n]
        self.add_rows(c, "analysis_rollup_days", DAY_KEY, ("n",), days)
        self.executemany(c, f"DELETE FROM {self.table('analysis_rollup_days')} WHERE n = 0 AND "
                            f"{' AND '.join(f'{k} = ?' for k in DAY_KEY)}",
                         [d[:-1] for d in days if d[-1] < 0])

    def rebuild_rollups(self, chunk_days: int = 31) -> None:
        """The bulk path: the roll-ups recomputed from the fact rows with the projection's own
        contributions — for facts loaded directly (the bench) or to check the live ones. It
        reads the facts by registration time, ``chunk_days`` at a time, and adds each chunk's
        roll-ups in its own transaction (memory stays bounded, and no transaction waits on
        Python); run it on a view no projection is writing to, and again if it fails."""
        with self.batch() as c:
            self.execute(c, f"DELETE FROM {self.table('analysis_rollup')}")
            self.execute(c, f"DELETE FROM {self.table('analysis_rollup_days')}")
        bounds = self.query(f"SELECT MIN(registered_at) AS first, MAX(registered_at) AS last "
                            f"FROM {self.table('analysis_facts')}")[0]
        if bounds["first"] is None:
            return
        start, last = self.decode_time(bounds["first"]), self.decode_time(bounds["last"])
        assert start is not None and last is not None
        while True:
            end = shifted(start, timedelta(days=chunk_days))  # stops at the calendar's end
            final = end >= last
            upper = "" if final else " AND registered_at < ?"
            params = (self.encode_time(start),) + (() if final else (self.encode_time(end),))
            rows = self._out(self.query(
                f"SELECT * FROM {self.table('analysis_facts')} WHERE registered_at >= ?{upper}",
                params))
            deltas = aggregate(rows)
            with self.batch() as c:
                self._add(c, deltas)
            if final:
                return
            start = end

    def rollups(self, period: Period, cohort: str | None = None
                ) -> tuple[list[Row], list[Row]]:
        """The roll-up rows (of one cohort: ``cohort``) that tile the period, and the
        days-to-answer histogram rows (none when a cohort is named)."""
        grains: dict[str, list[str]] = {}
        for grain, bucket in pieces(period):
            grains.setdefault(grain, []).append(bucket)
        where = " OR ".join(f"(grain = ? AND bucket IN ({', '.join('?' for _ in b)}))"
                            for b in grains.values())
        params = [p for g, b in grains.items() for p in (g, *b)]
        place = "received_by, district, street"
        sums = ", ".join(f"CAST(SUM({c}) AS BIGINT) AS {c}" for c in ALL_COUNTERS)
        if cohort is not None:  # summed over the buckets, by place and extra
            return self.query(
                f"SELECT cohort, {place}, extra, {sums} FROM {self.table('analysis_rollup')} "
                f"WHERE cohort = ? AND ({where}) GROUP BY cohort, {place}, extra",
                [cohort, *params]), []
        # summed over the buckets, by place (and, for ratings, the answering unit): the rows
        # a figure needs, whatever the number of buckets or categories
        extra = "CASE WHEN cohort = 'rated' THEN extra ELSE '' END"
        return (self.query(f"SELECT cohort, {place}, {extra} AS extra, {sums} FROM "
                           f"{self.table('analysis_rollup')} WHERE {where} "
                           f"GROUP BY cohort, {place}, {extra}", params),
                self.query(f"SELECT {place}, days, CAST(SUM(n) AS BIGINT) AS n FROM "
                           f"{self.table('analysis_rollup_days')} WHERE {where} "
                           f"GROUP BY {place}, days", params))

    def undecided(self, start: datetime, end: datetime) -> list[Row]:
        """Cases registered in [start, end) not decided yet (through the partial index)."""
        rows = self.query(
            f"SELECT received_by, district, street, acceptance_expires_at FROM "
            f"{self.table('analysis_facts')} WHERE decided_at IS NULL AND registered_at >= ? "
            "AND registered_at < ?", (self.encode_time(start), self.encode_time(end)))
        for row in rows:
            row["acceptance_expires_at"] = self.decode_time(row["acceptance_expires_at"])
        return rows

    def dump(self) -> dict[str, list[Row]]:
        """Every row, in a total order (the roll-ups' keys have more than two columns)."""
        return {t: sorted(self.query(f"SELECT * FROM {self.table(t)}"),
                          key=lambda r: [str(v) for v in r.values()])
                for t in self.tables}

    def facts_between(self, start: datetime, end: datetime) -> list[Row]:
        """Every case with a registration, answer, rating or review request in [start, end)."""
        basis = ("registered_at", "first_answered_at", "first_rated_at", "last_rated_at",
                 "review_requested_at", "re_review_requested_at")
        where = " OR ".join(f"({c} >= ? AND {c} < ?)" for c in basis)
        params = [self.encode_time(t) for _ in basis for t in (start, end)]
        return self._out(self.query(
            f"SELECT * FROM {self.table('analysis_facts')} WHERE {where} ORDER BY case_id",
            params))

    def by_petitioners(self, keys: Sequence[str], since: datetime, until: datetime) -> list[Row]:
        """Cases of the given petitioner keys registered in [since, until)."""
        if not keys:
            return []
        rows: list[Row] = []
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start:start + _CHUNK])
            marks = ", ".join("?" for _ in chunk)
            rows += self.query(
                f"SELECT * FROM {self.table('analysis_facts')} WHERE petitioner_key IN ({marks}) "
                "AND registered_at >= ? AND registered_at < ?",
                (*chunk, self.encode_time(since), self.encode_time(until)))
        return self._out(rows)

    def all_facts(self) -> list[Row]:
        return self._out(self.query(
            f"SELECT * FROM {self.table('analysis_facts')} ORDER BY case_id"))

    def _out(self, rows: list[Row]) -> list[Row]:
        for row in rows:
            for c in TIME_COLUMNS:
                row[c] = self.decode_time(row[c])
        return rows


class AnalysisProjection(BatchProjection):
    name = "analysis_facts"

    def __init__(self, view: AnalysisView, *, policy: DeadlinePolicy, org: OrgChart,
                 app: CaseHistorySource, capacity: int = 5000, **_: Any):
        super().__init__(view)
        self.policy, self.org, self.app, self.capacity = policy, org, app, capacity
        self.key = petitioner_key_for(app)
        self._cases: OrderedDict[int, tuple[Petition, CaseFacts]] = OrderedDict()

    def prepare(self, items: Sequence[Item]) -> tuple[list[Row], Deltas, set[str]]:
        """The batch's rows, the roll-up deltas (each touched case's row after the batch
        minus its row before, which is the view's row: the cached or replayed facts at the
        version before the batch's first event of the case), and the cases registered in it.
        Computed here, outside the write transaction; only the repeat flags, which depend on
        other cases, are settled in it."""
        touched: dict[int, CaseFacts] = {}
        before: dict[int, Row | None] = {}
        for item in items:
            if item.is_case_event:
                facts = self._after(item.event, before)
                facts.position = item.position
                touched[item.event.originator_id.int] = facts
        rows = [facts.row() for facts in touched.values()]
        deltas = Deltas()
        for key, row in zip(touched, rows, strict=True):
            deltas.add(before[key], -1)
            deltas.add(row, 1)
        fresh = {row["case_id"] for key, row in zip(touched, rows, strict=True)
                 if before[key] is None}
        return rows, deltas, fresh

    def write(self, prepared: tuple[list[Row], Deltas, set[str]]) -> None:
        self.view.save(*prepared)

    def _after(self, event: ev.PetitionEvent, before: dict[int, Row | None]) -> CaseFacts:
        key = event.originator_id.int
        cached = self._cases.pop(key, None)
        wanted = event.originator_version - 1
        if cached is None or cached[0].version != wanted:
            cached = self._replay(event.originator_id, wanted) if wanted else None
        if key not in before:  # the case as the view holds it before this batch
            before[key] = cached[1].row() if cached else None
        petition = event.mutate(cached[0] if cached else None)
        assert isinstance(petition, Petition)
        facts = fold(cached[1] if cached else None, event, petition, self.policy, self.key)
        self._cases[key] = (petition, facts)
        if len(self._cases) > self.capacity:
            self._cases.popitem(last=False)
        return facts

    def _replay(self, case_id: UUID, version: int) -> tuple[Petition, CaseFacts]:
        petition: Any = None
        facts: CaseFacts | None = None
        for event in self.app.events.get(case_id, lte=version):
            petition = event.mutate(petition)
            facts = fold(facts, event, petition, self.policy, self.key)  # type: ignore[arg-type]
        assert petition is not None and facts is not None
        return petition, facts
