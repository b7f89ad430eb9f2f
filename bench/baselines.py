"""The baselines every figure is divided by, measured in the same run on the same databases.

* bare eventsourcing: a minimal ``Aggregate`` with four ``@event`` methods, each command
  loaded, applied and saved in its own transaction by a plain ``Application`` (no cipher);
* raw SQL: one single-row INSERT per transaction, and the same rows in batched INSERTs.
"""

from __future__ import annotations

import sqlite3
import time
from uuid import UUID, uuid4

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.common import Place

BODY = b"x" * 300  # about the size of an encrypted petition event


class Case(Aggregate):
    def __init__(self, subject: str):
        self.subject, self.status = subject, "registered"

    @event("Accepted")
    def accept(self, track: str) -> None:
        self.track, self.status = track, "accepted"

    @event("Delegated")
    def delegate(self, unit: str) -> None:
        self.unit, self.status = unit, "in_handling"

    @event("Answered")
    def answer(self, text: str) -> None:
        self.answer_text, self.status = text, "answered"

    @event("Rated")
    def rate(self, score: str) -> None:
        self.score = score


class BareApplication(Application[UUID]):
    name = "Bare"


def bare_lifecycle(app: BareApplication, n: int) -> int:
    case = Case(subject=f"s{n}")
    app.save(case)
    for step in (lambda a: a.accept("claim"), lambda a: a.delegate("QH-D01-S01"),
                 lambda a: a.answer("done"), lambda a: a.rate("satisfied")):
        aggregate = app.repository.get(case.id)
        step(aggregate)
        app.save(aggregate)
    return 5


def raw_inserts(place: Place, rows: int, *, batch: int = 0) -> float:
    """Rows/s of raw INSERTs of event-sized rows: one per transaction, or ``batch`` per one."""
    if place.backend == "postgres":
        return _raw_postgres(place, rows, batch)
    return _raw_sqlite(place, rows, batch)


def _raw_postgres(place: Place, rows: int, batch: int) -> float:
    table = f'"{place.schema}".raw_{batch or "single"}'
    with psycopg.connect(place.run.url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, originator_id uuid, "
                     "version bigint, topic text, state bytea)")
        sql = f"INSERT INTO {table} (originator_id, version, topic, state) VALUES (%s, %s, %s, %s)"
        data = [(uuid4(), i, "bench:Event", BODY) for i in range(rows)]
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            if batch:
                for start in range(0, rows, batch):
                    with conn.transaction():
                        cur.executemany(sql, data[start:start + batch])
            else:
                for row in data:
                    cur.execute(sql, row, prepare=True)
        return rows / (time.perf_counter() - t0)


def _raw_sqlite(place: Place, rows: int, batch: int) -> float:
    path = place.run.tmp / f"raw-{batch or 'single'}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, originator_id "
                     "TEXT, version INTEGER, topic TEXT, state BLOB)")
        sql = "INSERT INTO raw (originator_id, version, topic, state) VALUES (?, ?, ?, ?)"
        data = [(uuid4().hex, i, "bench:Event", BODY) for i in range(rows)]
        t0 = time.perf_counter()
        step = batch or 1
        for start in range(0, rows, step):
            conn.execute("BEGIN")
            conn.executemany(sql, data[start:start + step])
            conn.execute("COMMIT")
        return rows / (time.perf_counter() - t0)
    finally:
        conn.close()
