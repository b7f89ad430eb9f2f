"""Pins what the library's private recorder methods do in the pinned version (9.5.6).

Group commit writes through them (``adapters/persistence/library_internals.py``, the only module
that calls them): an upgrade that renames or changes them fails here, by name.
"""

from __future__ import annotations

from importlib.metadata import version
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from adapters.persistence import library_internals as internals
from adapters.persistence.sqlite_transaction import immediate_transaction
from adapters.wiring import build_application


def test_the_installed_library_is_the_pinned_one():
    assert version("eventsourcing") == internals.PINNED_VERSION


def _events(n: int) -> list[StoredEvent]:
    return [StoredEvent(originator_id=uuid4(), originator_version=1, topic="test:Event",
                        state=b"{}") for _ in range(n)]


def test_the_private_inserts_append_and_number_events_in_order(settings, clock):
    app = build_application(settings, clock=clock)
    try:
        recorder, events = app.recorder, _events(3)
        if settings.is_postgres:
            with recorder.datastore.transaction(commit=True) as curs:
                internals.lock_events_table(recorder, curs)
                ids = internals.insert_postgres(recorder, curs, events)
        else:
            with immediate_transaction(recorder.datastore) as curs:
                ids = internals.insert_sqlite(recorder, curs, events)
        logged = recorder.select_notifications(start=None, limit=100)
        assert [n.id for n in logged] == list(ids) == sorted(ids)
        assert [n.originator_id for n in logged] == [e.originator_id for e in events]
    finally:
        app.close()
