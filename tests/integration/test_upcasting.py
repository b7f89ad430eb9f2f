"""Stores written by the previous version keep loading: events stored in an older shape are
upcast when read (``class_version`` and ``upcast_vN_vN+1``), on both stores.

The old events are written for real: the event is triggered, then stored in the shape the
previous release wrote (its class at version 1, without the fields added since), and read back
by a fresh application of this release.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.wiring import build_application
from domain import events as ev
from tests.integration.helpers import DISTRICT, register_sample, run_steps


def _stored_as_v1(app, petition, monkeypatch, added: dict[type, tuple[str, ...]]) -> None:
    """Saves ``petition``'s pending events as the previous release did."""
    for event in petition._pending_events:
        for name in added.get(type(event), ()):
            vars(event).pop(name)
    with monkeypatch.context() as patched:
        for cls in added:
            patched.setattr(cls, "class_version", 1)
        app.save(petition)


def test_supervision_and_escalation_written_as_v1_load_with_due_at_none(
        app, settings, clock, monkeypatch):
    case_id = register_sample(app).case_id
    run_steps(app, clock, case_id, until="delegate")
    petition = app.get_petition(case_id)
    clock.advance(timedelta(days=20))
    petition.supervise(at=clock.now(), actor="system:supervision", level="supervision_letter",
                       reason="overdue", rule="answer.supervision_letter")
    petition.escalate(at=clock.now(), actor="supervisor", unit=DISTRICT, reason="up",
                      org=app.org)
    _stored_as_v1(app, petition, monkeypatch,
                  {ev.SupervisionIssued: ("due_at",), ev.Escalated: ("due_at",)})

    stored = list(app.recorder.select_events(case_id))[-2:]
    assert [s.topic for s in stored] == ["domain.events:SupervisionIssued",
                                         "domain.events:Escalated"]
    for record in stored:  # really the old shape: no version key, no new field
        state = app.mapper.transcoder.decode(app.mapper.cipher.decrypt(record.state))
        assert "class_version" not in state and "due_at" not in state

    reader = build_application(settings, clock=clock)
    try:
        supervised, escalated = reader.events_of(case_id)[-2:]
        assert (supervised.level, supervised.rule, supervised.due_at) == (
            "supervision_letter", "answer.supervision_letter", None)
        assert (escalated.to_unit, escalated.due_at) == (DISTRICT, None)
        loaded = reader.get_petition(case_id)
        assert loaded.holder == DISTRICT and loaded.supervision_count == 1
    finally:
        reader.close()


@pytest.mark.parametrize("cls", [ev.SupervisionIssued, ev.Escalated])
def test_new_events_are_written_at_the_current_version(cls):
    assert cls.class_version == 2
