"""The library's PostgreSQL persistence, except that it fails fast while the server is away.

The library retries every store call up to ten times, and each attempt waits up to the pool's
timeout for a connection: with the server down one request hung ~90 s before failing. Here the
datastore of every factory built from the application's environment (the application's own and
the views') is guarded: a failure to get a working connection marks the store *down*; while it
is down, calls fail at once with ``StoreUnavailable`` (an ``OperationalError``, so every loop
already treats it as "retry later" and the API answers 503) while a background thread tries a
fresh connection every second and marks the store up when one succeeds. New connections get
libpq's ``connect_timeout`` and a server-side ``statement_timeout``, so no call waits unbounded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresDatastore, PostgresFactory

from adapters.persistence.postgres_log import PostgresEventLog

STORE_TIMEOUT = "STORE_TIMEOUT"  # seconds: connecting, and waiting for a pooled connection
STATEMENT_TIMEOUT = "STORE_STATEMENT_TIMEOUT"  # seconds one statement may run on the server
PROBE_EVERY = 1.0  # seconds between connection attempts while the store is down


class StoreUnavailable(OperationalError):
    """The store did not answer recently; not tried again yet (see ``StoreGuard``)."""


class StoreGuard:
    """Up or down, since when and why; ``probe`` says whether the server answers again."""

    def __init__(self, probe: Callable[[], None]):
        self._probe = probe
        self._lock = threading.Lock()
        self.down_since: datetime | None = None
        self.error: str | None = None
        self._prober: threading.Thread | None = None

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def admit(self) -> None:
        """Lets a call through, or refuses it at once while the store is down."""
        if self.down_since is not None:
            raise StoreUnavailable(f"the event store is not answering ({self.error})")

    def failed(self, error: BaseException) -> None:
        with self._lock:
            if self.down_since is None:
                self.down_since = datetime.now(UTC)
            self.error = f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
            if self._prober is None or not self._prober.is_alive():
                self._prober = threading.Thread(target=self._probe_until_up, daemon=True,
                                                name="store-probe")
                self._prober.start()

    def _probe_until_up(self) -> None:
        while True:
            started = time.monotonic()
            try:
                self._probe()
            except Exception as error:  # noqa: BLE001 - still down: say why, try again
                with self._lock:
                    self.error = f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
                time.sleep(max(0.0, PROBE_EVERY - (time.monotonic() - started)))
                continue
            with self._lock:
                self.down_since, self.error, self._prober = None, None, None
            return

    def as_dict(self) -> dict[str, Any]:
        if self.down_since is None:
            return {"state": "up"}
        return {"state": "down", "since": self.down_since.isoformat(), "error": self.error}


_CONNECTION_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError,
                      psycopg.InterfaceError)


def guard(datastore: PostgresDatastore, *, timeout: float, statement_timeout: float) -> None:
    """Bounds every new connection and guards ``get_connection`` (see the module)."""
    kwargs = datastore.pool.kwargs
    assert isinstance(kwargs, dict)
    kwargs["connect_timeout"] = max(2, round(timeout))  # libpq's minimum is 2 s
    kwargs["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"

    def probe() -> None:
        with psycopg.connect(**{k: v for k, v in kwargs.items() if k != "row_factory"}) as conn:
            conn.execute("SELECT 1")

    state = StoreGuard(probe)
    original: Callable[[], AbstractContextManager[Any]] = datastore.get_connection

    @contextmanager
    def get_connection() -> Iterator[Any]:
        state.admit()
        cm = original()
        try:
            conn = cm.__enter__()
        except _CONNECTION_ERRORS as error:
            state.failed(error)
            raise
        try:
            yield conn
        except BaseException as error:
            try:
                suppressed = cm.__exit__(type(error), error, error.__traceback__)
            except _CONNECTION_ERRORS as translated:
                if conn.broken:
                    state.failed(translated)
                raise
            if not suppressed:
                if isinstance(error, _CONNECTION_ERRORS) and conn.broken:
                    state.failed(error)
                raise
        else:
            cm.__exit__(None, None, None)

    datastore.get_connection = get_connection  # type: ignore[method-assign]
    datastore.guard = state  # type: ignore[attr-defined]


class GuardedPostgresFactory(PostgresFactory):
    """The library's PostgreSQL factory, with its datastore guarded, reading the log in
    binary format (``postgres_log.py``)."""

    application_recorder_class = PostgresEventLog

    def __init__(self, env: Any):
        super().__init__(env)
        guard(self.datastore,
              timeout=float(self.env.get(STORE_TIMEOUT) or 10),
              statement_timeout=float(self.env.get(STATEMENT_TIMEOUT) or 60))

