"""What every figure of the benchmark shares: stores in fresh places, sample commands, rows.

Each figure runs against its own PostgreSQL schema (dropped at the end of the run) or its own
SQLite file in a temporary directory, so runs never see each other's data.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg

from adapters.settings import Settings
from adapters.wiring import build_application
from workflows import commands as c
from workflows.application import PetitionApplication
from workflows.clock import ManualClock

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url(environ: dict[str, str] | None = None) -> str:
    """The PostgreSQL the tests use (``PETITION_TEST_POSTGRES``), so bench and tests agree."""
    env = os.environ if environ is None else environ
    return env.get("PETITION_TEST_POSTGRES") or DEFAULT_URL


def library_postgres_env(url: str, schema: str | None) -> dict[str, str]:
    """The eventsourcing library's PostgreSQL settings for the database named by ``url``."""
    parts = urlsplit(url)
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": schema or "public", "POSTGRES_POOL_SIZE": "10"}
DISTRICT, STREET = "QH-D01", "QH-D01-S01"


@dataclass
class Figure:
    """One line of the table: a figure of the engine next to its baseline from the same run."""

    number: int
    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    target: str
    met: bool | None
    ratio: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline_value:
            self.ratio = self.value / self.baseline_value

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Place:
    """Where a figure's data lives: a PostgreSQL schema or a SQLite file, with its keys."""

    def __init__(self, run: Run, backend: str, label: str):
        self.run, self.backend = run, backend
        self.keys = {"PETITION_CIPHER_KEY": key(), "PETITION_QUERY_CODE_KEY": key()}
        self.data_dir = run.tmp / f"{label}-data"
        if backend == "postgres":
            self.schema = f"bench_{label}_{uuid.uuid4().hex[:6]}"
            run.schemas.append(self.schema)
            with psycopg.connect(run.url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{self.schema}"')
            self.store = run.url
        else:
            self.schema = None
            self.store = str(run.tmp / f"{label}.db")

    @property
    def env(self) -> dict[str, str]:
        env = {"PETITION_STORE": self.store, "PETITION_DATA_DIR": str(self.data_dir), **self.keys}
        if self.schema:
            env["PETITION_POSTGRES_SCHEMA"] = self.schema
        return env

    def app(self, *, group_commit: bool = False, clock: ManualClock | None = None
            ) -> PetitionApplication:
        settings = replace(Settings.from_env(self.env), group_commit=group_commit)
        return build_application(settings, clock=clock or ManualClock(NOW - timedelta(days=90)))

    def library_env(self) -> dict[str, str]:
        """A plain eventsourcing Application's configuration for the same store, no cipher."""
        if self.backend == "postgres":
            return library_postgres_env(self.run.url, self.schema)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.run.tmp / f"bare-{uuid.uuid4().hex[:6]}.db")}


class Run:
    """One benchmark run: the PostgreSQL URL, a temporary directory, the schemas to drop."""

    def __init__(self, url: str):
        self.url = url
        self._tmp = tempfile.TemporaryDirectory(prefix="petition-bench-")
        self.tmp = Path(self._tmp.name)
        self.schemas: list[str] = []

    def place(self, backend: str, label: str) -> Place:
        return Place(self, backend, label)

    def close(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self._tmp.cleanup()


def id_number(n: int) -> str:
    """The n-th of distinct valid resident identity numbers (GB 11643 check character)."""
    first17 = f"1101{n % 10**13:013d}"
    return first17 + c.id_number_check_char(first17)


def register_command(n: int = 0) -> c.RegisterPetition:
    """Case ``n``'s registration, by a petitioner of its own: most petitioners have one case,
    and one person with thousands of cases would make every registration read them all
    (the concluded-matter rule, 不再受理, looks at the petitioner's earlier answered cases)."""
    return c.RegisterPetition(
        actor="bench", channel="letter", subject=f"路灯不亮 {n}", content="路灯坏了两个月。",
        category="城建", location=c.LocationIn(district=DISTRICT, street=STREET),
        received_by=DISTRICT,
        petitioner=c.PetitionerIn(name="王小明", id_number=id_number(n),
                                  phone="13800000000"))


def lifecycle(app: PetitionApplication, n: int) -> int:
    """register → accept → delegate → answer → rate: five commands, five case events."""
    cid = app.register(register_command(n)).case_id
    app.execute(c.AcceptPetition(case_id=cid, actor="intake", handling_track="claim",
                                speed_track="general"))
    app.execute(c.DelegatePetition(case_id=cid, actor="dispatcher", unit=STREET, note="请核实"))
    app.execute(c.AnswerPetition(case_id=cid, actor="handler", unit=STREET, answer="已维修。"))
    app.execute(c.RatePetition(case_id=cid, actor="petitioner", attitude="satisfied",
                            efficiency="satisfied", quality="satisfied", comment=""))
    return 5
