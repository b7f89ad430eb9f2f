"""Shared helpers for the integration tests: sample commands, a lifecycle script, raw store dumps.

``dump_store`` reads the store behind the application's back (plain sqlite3 / psycopg), so the
tests can assert on what is really on disk, not on what the application says it wrote.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit
from uuid import UUID

from adapters.settings import Settings
from workflows import commands as c
from workflows.application import CommandResult, PetitionApplication, Registration
from workflows.clock import ManualClock
from workflows.proxy_agents import enrol_generated_agent

DISTRICT = "QH-D01"  # 青河区, a district of the demo chart
STREET = "QH-D01-S01"  # 文昌街道, a street of that district
COMMUNITY = "QH-D01-S01-C01"  # a community below that street
CITY = "QH"
GRID = "QH-D01-S01-C01-G01"  # a grid of that community
ENTRUSTMENT = {"form": "entrusted", "grid": GRID, "scope": ["file", "follow", "review"],
               "valid_until": "2099-01-01T00:00:00+08:00"}
"""The entrustment a sample registration by a proxy agent files under."""


def id_number(first17: str = "11010519900307123") -> str:
    """A resident identity number with a correct GB 11643 check character."""
    return first17 + c.id_number_check_char(first17)


SAMPLE_PETITIONER = {"name": "王小明", "id_number": id_number(), "phone": "13800138000"}
_PETITIONERS = itertools.count(1)


def another_petitioner() -> dict[str, str]:
    """The sample petitioner under a new ID number: one person per sample case by default, so
    that a sample case is never another's repeat on a concluded matter (不再受理) by accident —
    tests about the same person pass ``petitioner=SAMPLE_PETITIONER``."""
    return {**SAMPLE_PETITIONER, "id_number": numbered_id_number(next(_PETITIONERS))}


def numbered_id_number(n: int) -> str:
    """The n-th of distinct valid identity numbers (GB 11643), for one person per prepared case."""
    return id_number(f"110105{19500101 + n // 1000:08d}{n % 1000:03d}")


def register_command(**overrides: Any) -> c.RegisterPetition:
    """A valid RegisterPetition on the demo units; any field may be overridden."""
    fields: dict[str, Any] = {
        "actor": "clerk-01",
        "channel": "letter",
        "subject": "路灯不亮",
        "content": "文昌街道第一社区的路灯已经坏了两个月。",
        "category": "城建",
        "location": {"district": DISTRICT, "street": STREET, "address": "文昌路 12 号"},
        "petitioner": another_petitioner(),
        "received_by": DISTRICT,
    }
    fields.update(overrides)
    if fields.get("proxy_agent") and "entrustment" not in fields:  # the agent files: 委托书
        fields["entrustment"] = ENTRUSTMENT
    return c.RegisterPetition(**fields)


def register_sample(app: PetitionApplication, **overrides: Any) -> Registration:
    return app.register(register_command(**overrides))


def proxy_agent(app: PetitionApplication, name: str = "agent-1", unit: str = STREET) -> str:
    """The id of a proxy agent (a proxy token) named ``name``, enrolled once in ``app``'s store."""
    return enrol_generated_agent(app, name, unit, app.clock.now())


# The full lifecycle, one step per command; each factory builds the command for a case id.
Step = tuple[str, Callable[[UUID], c.Command]]

LIFECYCLE: list[Step] = [
    ("accept", lambda cid: c.AcceptPetition(
        case_id=cid, actor="intake-01", handling_track="claim", speed_track="complex")),
    ("delegate", lambda cid: c.DelegatePetition(
        case_id=cid, actor="dispatcher-01", unit=STREET, note="请核实")),
    ("extend", lambda cid: c.ExtendDeadline(
        case_id=cid, actor="supervisor-01", days=15, reason="需要现场勘查")),
    ("supervise", lambda cid: c.IssueSupervision(
        case_id=cid, actor="supervisor-01", level="reminder", reason="进度缓慢")),
    ("answer", lambda cid: c.AnswerPetition(
        case_id=cid, actor="handler-01", unit=STREET, answer="已安排维修。")),
    ("rate", lambda cid: c.RatePetition(
        case_id=cid, actor="petitioner", attitude="satisfied", efficiency="unsatisfied",
        quality="basically_satisfied", comment="太慢")),
    ("review", lambda cid: c.RequestReview(case_id=cid, actor="petitioner", reason="仍未修好")),
    ("review-decision", lambda cid: c.DecideReview(
        case_id=cid, actor="reviewer-01", unit=DISTRICT, outcome="revised", opinion="责令重修")),
    ("re-review", lambda cid: c.RequestReReview(
        case_id=cid, actor="petitioner", reason="对复查意见不服")),
    ("re-review-decision", lambda cid: c.DecideReReview(
        case_id=cid, actor="reviewer-02", unit=CITY, outcome="upheld", opinion="维持复查意见")),
    ("close", lambda cid: c.ClosePetition(case_id=cid, actor="closer-01", summary="办结")),
]

STEP_NAMES = [name for name, _ in LIFECYCLE]


def run_steps(
    app: PetitionApplication, clock: ManualClock, case_id: UUID, until: str,
    *, every: timedelta = timedelta(days=1),
) -> list[CommandResult]:
    """Runs the lifecycle's steps up to and including ``until``, moving the clock before each."""
    results = []
    for name, build in LIFECYCLE:
        clock.advance(every)
        results.append(app.execute(build(case_id)))
        if name == until:
            return results
    raise ValueError(f"no lifecycle step named {until!r}")


# ---------------------------------------------------------------------- raw store access
Dump = tuple[tuple[str, tuple[tuple[Any, ...], ...]], ...]


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, (memoryview, bytearray)) else value


def dump_store(settings: Settings) -> Dump:
    """Every row of every table of the store: ((table, rows), ...) in a stable order."""
    return _dump_postgres(settings) if settings.is_postgres else _dump_sqlite(Path(settings.store))


def _dump_sqlite(path: Path) -> Dump:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        out = []
        for table in tables:
            try:  # the rowid is the notification position: it must not change either
                rows = conn.execute(f'SELECT rowid, * FROM "{table}" ORDER BY rowid').fetchall()
            except sqlite3.OperationalError:  # a WITHOUT ROWID table
                rows = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
            out.append((table, tuple(tuple(_plain(v) for v in row) for row in rows)))
        return tuple(out)
    finally:
        conn.close()


def postgres_target(settings: Settings) -> tuple[str, str]:
    """(connection URL without query, schema) of a PostgreSQL store."""
    url = urlsplit(settings.store)
    schema = settings.postgres_schema or (parse_qs(url.query).get("schema") or ["public"])[0]
    return urlunsplit(url._replace(query="")), schema


def _dump_postgres(settings: Settings) -> Dump:
    import psycopg
    from psycopg import sql

    url, schema = postgres_target(settings)
    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
            (schema,))]
        for table in tables:
            qualified = sql.Identifier(schema, table)
            key = [r[0] for r in conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
                " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
                " WHERE i.indrelid = %s::regclass AND i.indisprimary"
                " ORDER BY array_position(i.indkey::int2[], a.attnum)",
                (f'"{schema}"."{table}"',))]
            order = (sql.SQL(", ").join(sql.Identifier(k) for k in key) if key
                     else sql.SQL("1"))
            rows = conn.execute(
                sql.SQL("SELECT * FROM {} ORDER BY {}").format(qualified, order)).fetchall()
            out.append((table, tuple(tuple(_plain(v) for v in row) for row in rows)))
    return tuple(out)


def dump_bytes(dump: Dump) -> bytes:
    """The dump flattened to bytes (text as UTF-8), for searching the store for secrets."""
    parts = []
    for table, rows in dump:
        parts.append(table.encode())
        for row in rows:
            for value in row:
                parts.append(value if isinstance(value, bytes) else str(value).encode("utf-8"))
    return b"\x00".join(parts)


def row_count(dump: Dump) -> int:
    return sum(len(rows) for _, rows in dump)
