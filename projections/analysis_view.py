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
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import EventStore

from domain import events as ev
from domain.deadlines import DeadlinePolicy
from domain.petition import Petition
from domain.units import OrgChart
from projections.analysis_facts import COLUMNS, TIME_COLUMNS, CaseFacts, fold
from projections.batching import BatchProjection, Item
from projections.view import Row, View
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
    "suggestions_responded INTEGER NOT NULL, leader_received_at {ts}, position BIGINT NOT NULL)",
    *(f"CREATE INDEX IF NOT EXISTS analysis_facts_{c} ON {{t[analysis_facts]}} ({c})"
      for c in ("registered_at", "first_answered_at", "first_rated_at", "last_rated_at",
                "review_requested_at", "re_review_requested_at")),
    "CREATE INDEX IF NOT EXISTS analysis_facts_petitioner ON {t[analysis_facts]} "
    "(petitioner_key, registered_at)",
)


class AnalysisView(View, ABC):
    DDL = _DDL
    name = "analysis_facts"
    tables = ("analysis_facts",)
    schema_version = 3  # 2: proxied, proxy_missed_weeks, suggestions, suggestions_responded;
    # 3: leader_received_at

    def save(self, rows: list[Row]) -> None:
        values = [[self.encode_time(r[c]) if c in _TIMES else r[c] for c in COLUMNS]
                  for r in rows]
        with self.batch() as c:
            self.upsert_rows(c, "analysis_facts", COLUMNS, values)

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
        for start in range(0, len(keys), 500):
            chunk = list(keys[start:start + 500])
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

    def prepare(self, items: Sequence[Item]) -> list[Row]:
        touched: dict[int, CaseFacts] = {}
        for item in items:
            if item.is_case_event:
                facts = self._after(item.event)
                facts.position = item.position
                touched[item.event.originator_id.int] = facts
        return [facts.row() for facts in touched.values()]

    def write(self, prepared: list[Row]) -> None:
        self.view.save(prepared)

    def _after(self, event: ev.PetitionEvent) -> CaseFacts:
        key = event.originator_id.int
        cached = self._cases.pop(key, None)
        wanted = event.originator_version - 1
        if cached is None or cached[0].version != wanted:
            cached = self._replay(event.originator_id, wanted) if wanted else None
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
