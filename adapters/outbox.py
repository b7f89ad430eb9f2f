"""The embedded notifier: messages to citizens' phones go to an outbox table an operator reads.

With no SMS gateway configured, a verification code still has to reach the citizen: the operator
reads it with ``petition outbox list`` (and, on a terminal, the service prints it). Phone and text
are encrypted at rest with the store's cipher like every other piece of personal data, and rows
older than a day are deleted on each write, so the table stays small. Never logged.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any

import structlog

from adapters.settings import Settings
from workflows.notifier import Notifier

log = structlog.get_logger("petition.outbox")
KEEP = timedelta(days=1)


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    created_at: datetime
    phone: str
    message: str

    def __repr__(self) -> str:  # keeps the phone and the code out of tracebacks
        return f"OutboxMessage(id={self.id})"


class Outbox:
    """One table, ``citizen_outbox``, beside the events (SQLite file or PostgreSQL schema)."""

    def __init__(self, settings: Settings, cipher: Any):
        self.settings, self.cipher = settings, cipher

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        if self.settings.is_postgres:
            import psycopg
            from psycopg import sql

            with psycopg.connect(self.settings.store, connect_timeout=10) as conn:
                if self.settings.postgres_schema:
                    conn.execute(sql.SQL("SET search_path TO {}").format(
                        sql.Identifier(self.settings.postgres_schema)))
                conn.execute("CREATE TABLE IF NOT EXISTS citizen_outbox (id BIGSERIAL PRIMARY KEY,"
                             " created_at TIMESTAMPTZ NOT NULL, body BYTEA NOT NULL)")
                yield conn
            return
        conn = sqlite3.connect(self.settings.store, timeout=10)
        try:
            with conn:
                conn.execute("CREATE TABLE IF NOT EXISTS citizen_outbox (id INTEGER PRIMARY KEY "
                             "AUTOINCREMENT, created_at TEXT NOT NULL, body BLOB NOT NULL)")
                yield conn
        finally:
            conn.close()

    def _param(self) -> str:
        return "%s" if self.settings.is_postgres else "?"

    def put(self, phone: str, message: str, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        body = self.cipher.encrypt(json.dumps({"phone": phone, "message": message}).encode())
        p = self._param()
        stamp: Any = now if self.settings.is_postgres else now.isoformat()
        horizon: Any = now - KEEP if self.settings.is_postgres else (now - KEEP).isoformat()
        with self._connect() as conn:
            conn.execute(f"DELETE FROM citizen_outbox WHERE created_at < {p}", (horizon,))
            row = conn.execute(f"INSERT INTO citizen_outbox (created_at, body) VALUES ({p}, {p})"
                               " RETURNING id", (stamp, body)).fetchone()
        return int(row[0])

    def list(self, limit: int = 20) -> list[OutboxMessage]:
        """The newest ``limit`` messages, newest first."""
        p = self._param()
        with self._connect() as conn:
            rows = conn.execute("SELECT id, created_at, body FROM citizen_outbox "
                                f"ORDER BY id DESC LIMIT {p}", (limit,)).fetchall()
        return [self._message(*row) for row in rows]

    def _message(self, id_: int, created_at: Any, body: bytes) -> OutboxMessage:
        data = json.loads(self.cipher.decrypt(bytes(body)))
        when = created_at if isinstance(created_at, datetime) else datetime.fromisoformat(
            created_at)
        return OutboxMessage(int(id_), when, data["phone"], data["message"])


class OutboxNotifier:
    """The default notifier: the outbox, and the console when a person is watching it."""

    def __init__(self, outbox: Outbox, echo: Callable[[str], None] | None = None):
        self.outbox, self.echo = outbox, echo

    def send(self, phone: str, message: str) -> None:
        message_id = self.outbox.put(phone, message)
        log.info("notifier.outbox", message_id=message_id)  # never the phone or the text
        if self.echo is not None:
            self.echo(f"[outbox #{message_id}] to {phone}: {message}")


def console_echo(settings: Settings) -> Callable[[str], None] | None:
    """Prints messages only for a person at a terminal; never into JSON (production) logs."""
    if settings.log_format == "json" or not sys.stderr.isatty():
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def build_notifier(settings: Settings, cipher: Any) -> Notifier:
    """``PETITION_NOTIFIER``: ``outbox`` (default) or ``module:factory`` of a gateway adapter,
    called with the settings and returning an object with ``send(phone, message)``."""
    choice = settings.notifier
    if choice == "outbox":
        return OutboxNotifier(Outbox(settings, cipher), console_echo(settings))
    module, _, name = choice.partition(":")
    factory = getattr(import_module(module), name)
    notifier: Notifier = factory(settings)
    return notifier
