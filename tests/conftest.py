"""Shared fixtures: the same scenarios run on SQLite (a temp file) and PostgreSQL (a fresh schema).

PostgreSQL is the server at 127.0.0.1:5432 (user postgres, database test). When it is not
reachable the PostgreSQL variants are skipped, unless PETITION_REQUIRE_POSTGRES=1 (CI sets it),
which turns the skip into a failure.
"""

from __future__ import annotations

import base64
import os
import secrets
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from adapters.settings import Settings
from adapters.wiring import build_application
from tests.blob_stores import blobs  # noqa: F401 - the folder and the bucket, for any test
from tests.s3_server import s3_server  # noqa: F401 - the S3 protocol server, for any test
from workflows.application import PetitionApplication
from workflows.clock import ManualClock

PG_URL = os.environ.get("PETITION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
CST = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 9, 0, tzinfo=CST)  # a Monday, outside any holiday


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL at {PG_URL} is not reachable: {error}"


def require_postgres() -> None:
    problem = _postgres_reachable()
    if problem is None:
        return
    if os.environ.get("PETITION_REQUIRE_POSTGRES") == "1":
        pytest.fail(problem)
    pytest.skip(problem)


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh, uniquely named schema, dropped afterwards."""
    require_postgres()
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for a private store of the parametrised backend."""
    env = {
        "PETITION_DATA_DIR": str(tmp_path / "data"),
        "PETITION_CIPHER_KEY": _key(),
        "PETITION_QUERY_CODE_KEY": _key(),
    }
    if backend == "sqlite":
        env["PETITION_STORE"] = str(tmp_path / "petitions.db")
    else:
        env["PETITION_STORE"] = PG_URL
        env["PETITION_POSTGRES_SCHEMA"] = request.getfixturevalue("pg_schema")
    return Settings.from_env(env)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def app(settings: Settings, clock: ManualClock) -> Iterator[PetitionApplication]:
    application = build_application(settings, clock=clock)
    yield application
    application.close()
