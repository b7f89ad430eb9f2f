"""The envelope of a case event: versioned, deterministic, and free of personal data."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID, uuid4, uuid5

import pytest

from domain.events import ALL_EVENTS
from domain.petition import Petition
from domain.values import Channel, HandlingTrack, Location, Petitioner, SpeedTrack
from tests.unit.builders import T0, later
from workflows.event_envelope import EVENT_ID_NAMESPACE, SCHEMA_VERSION, envelope, event_id

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "envelope.schema.json"
PII = ("Zhang San", "11010519491231002X", "13800000000")


@pytest.fixture
def events(org):
    p = Petition.register(
        case_id=uuid4(), at=T0, actor="clerk", channel=Channel.LETTER, subject="Lamp",
        content="Dark for a month.", category="infrastructure",
        location=Location(district="D1", street="S11"), petitioner=Petitioner(*PII),
        co_petitioners=0, received_by="D1", proxy_agent=None, query_code_hash="secret-hash",
        org=org)
    p.accept(at=later(p), actor="clerk", handling_track=HandlingTrack.CLAIM,
             speed_track=SpeedTrack.GENERAL)
    return p.collect_events()


def test_the_envelope_has_the_documented_fields(events):
    registered = envelope(events[0], position=41)
    assert list(registered) == ["event_id", "type", "schema_version", "case_id",
                                "case_version", "position", "at", "recorded_at", "data"]
    assert registered["type"] == "Registered"
    assert registered["schema_version"] == SCHEMA_VERSION
    assert registered["case_id"] == str(events[0].originator_id)
    assert (registered["case_version"], registered["position"]) == (1, 41)
    assert registered["at"] == T0.isoformat()
    assert registered["recorded_at"] == events[0].timestamp.isoformat()
    assert registered["data"]["location"] == {"district": "D1", "street": "S11",
                                              "address": None, "lat": None, "lon": None}
    assert registered["data"]["actor"] == "clerk"
    accepted = envelope(events[1], position=42)
    deadline = accepted["data"].pop("deadline")  # the answer deadline acceptance started
    assert accepted["data"] == {"actor": "clerk", "handling_track": "claim",
                                "speed_track": "general"}
    assert (deadline["kind"], deadline["starts_at"], deadline["days"]) == (
        "answer", events[1].at.isoformat(), 10)
    assert set(deadline) == {"kind", "starts_at", "due_on", "expires_at", "provisional", "days",
                             "calendar"}


def test_personal_data_and_the_query_code_hash_never_leave(events):
    registered = envelope(events[0], position=1)
    assert registered["data"]["petitioner"] == "<redacted>"
    assert "query_code_hash" not in registered["data"]
    text = json.dumps(registered, ensure_ascii=False)
    assert not [value for value in (*PII, "secret-hash") if value in text]


def test_event_id_is_the_same_for_the_same_case_version_so_duplicates_show(events):
    first, again = envelope(events[0], 1), envelope(events[0], 1)
    assert first == again
    case_id = events[0].originator_id
    assert first["event_id"] == str(uuid5(EVENT_ID_NAMESPACE, f"{case_id}:1"))
    assert event_id(case_id, 1) != event_id(case_id, 2) != event_id(uuid4(), 2)
    assert envelope(events[1], 2)["event_id"] == str(event_id(case_id, 2))
    assert UUID(first["event_id"]).version == 5


def test_the_json_schema_matches_the_envelopes(events):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    catalogue = SCHEMA.with_name("subscribers.md").read_text(encoding="utf-8")
    assert [e.__name__ for e in ALL_EVENTS if f"`{e.__name__}`" not in catalogue] == []
    jsonschema = pytest.importorskip("jsonschema")
    for position, event in enumerate(events, start=1):
        jsonschema.validate(json.loads(json.dumps(envelope(event, position))), schema)
