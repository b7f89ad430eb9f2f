"""The store-shared query-code throttle on SQLite and PostgreSQL: two throttles (two processes)
on one store share each client's and each code's allowance; a window ends and its row goes."""

from __future__ import annotations

import hashlib

import pytest

from adapters.persistence import shared_counters
from adapters.persistence.shared_counters import TABLE, SharedCounters
from adapters.throttle import SharedQueryCodeThrottle, Throttled


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _hide(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _throttles(app, settings, time: FakeTime) -> list[SharedQueryCodeThrottle]:
    counters = [SharedCounters(app.factory.datastore, postgres=settings.is_postgres, clock=time)
                for _ in range(2)]
    return [SharedQueryCodeThrottle(c, _hide, per_client=4, per_code_failures=2, window=60)
            for c in counters]


def _rows(app, settings) -> int:
    table = f'"{app.factory.datastore.schema}".{TABLE}' if settings.is_postgres else TABLE
    with app.factory.datastore.transaction(commit=False) as c:
        c.execute(f"SELECT COUNT(*) AS n FROM {table}")
        return int(c.fetchone()["n"])


def test_two_processes_share_a_client_allowance(app, settings):
    time = FakeTime()
    one, two = _throttles(app, settings, time)
    for attempt in range(4):
        (one, two)[attempt % 2].before("203.0.113.7", f"code-{attempt}")
    with pytest.raises(Throttled) as refused:
        one.before("203.0.113.7", "code-9")
    assert 1 <= refused.value.retry_after <= 60
    with pytest.raises(Throttled):
        two.before("203.0.113.7", "code-9")
    two.before("198.51.100.23", "code-9")  # another client is not refused
    time.now += 61
    one.before("203.0.113.7", "code-9")  # a new window


def test_failures_of_one_code_add_up_across_processes(app, settings, monkeypatch):
    time = FakeTime()
    one, two = _throttles(app, settings, time)
    one.before("a", "guessed")
    one.failed("guessed")
    two.before("b", "guessed")
    two.failed("guessed")
    with pytest.raises(Throttled):
        two.before("c", "guessed")  # from a third address: the code's failures are shared
    one.before("c", "another")
    assert _rows(app, settings) == 4  # clients a, b, c and the guessed code
    monkeypatch.setattr(shared_counters, "SWEEP_EVERY", 0.0)
    time.now += 61
    one.before("d", "another")  # sweeps the expired rows
    assert _rows(app, settings) == 1


def test_postgres_counters_are_unlogged_even_in_a_table_made_before(app, settings):
    """The counters need no WAL (a crash only restarts the windows): a new table is UNLOGGED,
    and one made logged by an earlier release is turned unlogged at start, counts intact."""
    if not settings.is_postgres:
        pytest.skip("UNLOGGED is PostgreSQL's")
    datastore = app.factory.datastore
    table = f'"{datastore.schema}".{TABLE}'

    def persistence() -> str:
        with datastore.transaction(commit=False) as c:
            c.execute("SELECT relpersistence FROM pg_class WHERE oid = to_regclass(%s)",
                      (table,))
            return str(c.fetchone()["relpersistence"])

    time = FakeTime()
    SharedCounters(datastore, postgres=True, clock=time)
    assert persistence() == "u"
    with datastore.transaction(commit=True) as c:
        c.execute(f"ALTER TABLE {table} SET LOGGED")
    one, _ = _throttles(app, settings, time)
    assert persistence() == "u"
    one.before("203.0.113.7", "code-1")
    assert SharedCounters(datastore, postgres=True, clock=time).count(60, peek=_hide(
        "client\x00203.0.113.7"))[1][0] == 1
