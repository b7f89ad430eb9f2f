"""The citizen pages' sessions in the store, on SQLite and PostgreSQL: two stores (two processes)
on one database see one session and spend each form token once; idle and absolute expiry hold
in the store; rows are swept and capped; neither the session id, a token nor the case is stored
as it is."""

from __future__ import annotations

from uuid import uuid4

from adapters.pages.sessions import MemorySessions, StoredSessions
from adapters.persistence import shared_sessions
from adapters.persistence.shared_sessions import SessionLimits, SharedSessions

LIMITS = SessionLimits(idle=1800, absolute=12 * 3600, token=1800, capacity=1000)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _processes(app, settings, time: FakeTime, limits: SessionLimits = LIMITS
               ) -> list[StoredSessions]:
    cipher, codes = app.mapper.cipher, app.query_codes
    return [StoredSessions(SharedSessions(app.factory.datastore, postgres=settings.is_postgres,
                                          limits=limits, clock=time),
                           codes.mac, cipher.encrypt, cipher.decrypt) for _ in range(2)]


def _rows(app, settings) -> list[str]:
    prefix = f'"{app.factory.datastore.schema}".' if settings.is_postgres else ""
    found = []
    with app.factory.datastore.transaction(commit=False) as c:
        for table in (shared_sessions.SESSIONS, shared_sessions.TOKENS):
            c.execute(f"SELECT * FROM {prefix}{table}")
            found += [repr(dict(row)) for row in c.fetchall()]
    return found


def test_one_session_across_processes(app, settings):
    time = FakeTime()
    one, two = _processes(app, settings, time)
    session = one.new()
    case_id = uuid4()
    session.case_id, session.flash = case_id, ["done_rate"]
    one.save(session)
    seen = two.open(session.id)
    assert seen is not None and seen.case_id == case_id and seen.flash == ["done_rate"]

    one.issue(session, "token-rendered-by-one")
    assert two.spend(seen, "token-rendered-by-one")
    assert not one.spend(session, "token-rendered-by-one")  # once, across processes
    other = two.new()
    one.issue(other, "token-of-another-session")
    assert not two.spend(session, "token-of-another-session")  # not this session's
    assert not one.spend(other, "token-of-another-session")  # and burnt by the forgery

    seen.case_id = None  # the citizen leaves on the second process
    two.save(seen)
    again = one.open(session.id)
    assert again is not None and again.case_id is None
    assert one.open("never-issued-session-id-0000000000") is None


def test_nothing_is_stored_in_clear(app, settings):
    time = FakeTime()
    one, _ = _processes(app, settings, time)
    session = one.new()
    session.case_id = uuid4()
    one.save(session)
    one.issue(session, "a-form-token-in-clear-0123456789")
    rows = " ".join(_rows(app, settings))
    assert rows.count("'key'") >= 2
    for secret in (session.id, "a-form-token-in-clear-0123456789", str(session.case_id),
                   session.case_id.hex):
        assert secret not in rows


def _request(store: StoredSessions, sid: str):
    """What a page request does with its session: opens it and renders a form's token."""
    session = store.open(sid)
    if session is not None:
        store.issue(session, f"token-{uuid4()}")
    return session


def test_idle_and_absolute_expiry_hold_in_the_store(app, settings):
    time = FakeTime()
    one, two = _processes(app, settings, time)
    idle = one.new()
    busy = one.new()
    one.issue(busy, "old-token")
    time.now += LIMITS.idle - 1
    assert _request(two, busy.id) is not None  # a request restarts the idle time
    time.now += 2
    assert two.open(idle.id) is None and one.open(idle.id) is None  # idle too long
    assert not two.spend(busy, "old-token")  # rendered more than TOKEN seconds ago
    one.issue(idle, "late")  # a token cannot revive an expired session
    assert one.open(idle.id) is None
    while time.now < 1_000_000.0 + LIMITS.absolute - 600:
        time.now += 600
        assert _request(one, busy.id) is not None
    time.now += 600
    assert one.open(busy.id) is None  # however busy, it ends ABSOLUTE seconds after it began


def test_expired_rows_are_swept_and_the_tables_are_capped(app, settings):
    time = FakeTime()
    limits = SessionLimits(idle=60, absolute=600, token=60, capacity=5)
    one, _ = _processes(app, settings, time, limits)
    sessions = [one.new() for _ in range(12)]
    for n, session in enumerate(sessions):
        one.issue(session, f"token-{n}")
    time.now += shared_sessions.SWEEP_EVERY
    one.shared.create("fresh", "body")  # a write sweeps (at most once a minute)
    assert one.shared.count() == (1, 0)  # all the old ones expired (idle 60 s)

    for _ in range(12):
        one.new()
        time.now += 1
    for n in range(12):
        one.issue(sessions[0], f"again-{n}")
    time.now += shared_sessions.SWEEP_EVERY - 12
    one.new()
    kept, tokens = one.shared.count()
    assert kept == limits.capacity and tokens <= 2 * limits.capacity


def test_memory_sessions_keep_the_same_limits():
    time = FakeTime()
    memory = MemorySessions(LIMITS, clock=time)
    session = memory.new()
    memory.issue(session, "t")
    session.case_id = uuid4()
    memory.save(session)
    time.now += LIMITS.idle - 1
    assert memory.open(session.id).case_id == session.case_id
    assert memory.spend(session, "t") and not memory.spend(session, "t")
    while time.now < 1_000_000.0 + LIMITS.absolute - 600:
        time.now += 600
        assert memory.open(session.id) is not None
    time.now += 600
    assert memory.open(session.id) is None
