"""Each audience sees exactly what the privacy table says, in every output built for it.

The expectations below are written out by hand (not read from workflows/privacy.py), and are
checked against the real outputs: the staff's case and history, the audit trail's stored
payload and /history's entries, the Kafka envelope, the petitioner's /status and page steps.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pages.timeline import case_view, steps
from domain.petition import Petition
from domain.values import Channel, Location, Petitioner, Status
from projections.audit_trail import redacted_payload
from tests.unit.builders import T0, plain_policy, small_chart, step
from workflows import case_reads
from workflows.case_summary import case_summary, event_record, plain
from workflows.event_envelope import envelope
from workflows.privacy import (
    PERSONAL_DATA,
    REDACTED,
    Audience,
    Treatment,
    disclose,
    reveal,
    treatment,
)
from workflows.public_steps import StepsOfCases

A, T = Audience, Treatment
ORG, POLICY = small_chart(), plain_policy()

# (field of the Registered event, audience) → what that audience's output holds
EXPECTED: dict[tuple[str, Audience], Treatment] = {
    **{("petitioner", a): t for a, t in [
        (A.PETITIONER, T.REMOVED), (A.STAFF, T.REDACTED), (A.STAFF_PII, T.SHOWN),
        (A.AUDITOR, T.REDACTED), (A.AUDITOR_PII, T.SHOWN), (A.SUBSCRIBER, T.REDACTED)]},
    **{("content", a): t for a, t in [
        (A.PETITIONER, T.REMOVED), (A.STAFF, T.SHOWN), (A.STAFF_PII, T.SHOWN),
        (A.AUDITOR, T.REDACTED), (A.AUDITOR_PII, T.REDACTED), (A.SUBSCRIBER, T.SHOWN)]},
    **{(f"location.{part}", a): t for part in ("address", "lat", "lon") for a, t in [
        (A.PETITIONER, T.REMOVED), (A.STAFF, T.SHOWN), (A.STAFF_PII, T.SHOWN),
        (A.AUDITOR, T.REMOVED), (A.AUDITOR_PII, T.REMOVED), (A.SUBSCRIBER, T.SHOWN)]},
    **{("query_code_hash", a): T.REMOVED for a in Audience},
    **{("subject", a): T.SHOWN for a in Audience if a is not A.PETITIONER},
    **{("location.district", a): T.SHOWN for a in Audience if a is not A.PETITIONER},
    ("received_by", A.PETITIONER): T.SHOWN,
    ("actor", A.PETITIONER): T.REMOVED,
    ("channel", A.PETITIONER): T.REMOVED,
}


def registered_case(name: str = "Zhang San", id_number: str = "11010519491231002X",
                    phone: str = "13800000000", content: str = "Dark for a month.",
                    address: str | None = "Wenchang Rd 12", lat: float | None = 30.25,
                    lon: float | None = 120.5) -> Petition:
    return Petition.register(
        case_id=uuid4(), at=T0, actor="clerk", channel=Channel.LETTER, subject="Lamp",
        content=content, category="infrastructure",
        location=Location(district="D1", street="S11", address=address, lat=lat, lon=lon),
        petitioner=Petitioner(name, id_number, phone), co_petitioners=0, received_by="D1",
        proxy_agent=None, query_code_hash="secret-hash", org=ORG)


def outputs(petition: Petition, events: list[Any]) -> dict[Audience, list[dict[str, Any]]]:
    """Every output built for each audience, from the case and its events (plain data)."""
    now = petition.last_at
    stored = [json.loads(redacted_payload(e)) for e in events]
    originals = {"petitioner": plain(petition.petitioner)}
    app = SimpleNamespace(org=ORG, policy=POLICY, clock=SimpleNamespace(now=lambda: now),
                          events_of=lambda case_id: events,
                          public_steps=StepsOfCases(lambda case_id, after, upto: [
                              e for e in events if after < e.originator_version <= upto]))
    return {
        A.STAFF: [case_summary(petition, POLICY, now),
                  *(event_record(e)["data"] for e in events)],
        A.STAFF_PII: [case_summary(petition, POLICY, now, pii=True),
                      *(event_record(e, pii=True)["data"] for e in events)],
        A.AUDITOR: [*stored, *(reveal(A.AUDITOR, s, {}) for s in stored)],
        A.AUDITOR_PII: [reveal(A.AUDITOR_PII, s, originals) for s in stored],
        A.SUBSCRIBER: [envelope(e, position)["data"] for position, e in enumerate(events, 1)],
        A.PETITIONER: [case_reads.petitioner_case(app, petition),
                       *(s.fields for s in steps(app, events)),  # type: ignore[arg-type]
                       page_case(app, petition)],
    }


def page_case(app: Any, petition: Petition) -> dict[str, Any]:
    """The citizens' page's case (its steps are checked above), as plain data."""
    view = case_view(app, petition)
    return {**{k: v for k, v in vars(view).items() if k not in ("steps", "deadline")},
            "attachments": [list(a) for a in view.attachments]}


def lookup(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return Treatment.REMOVED
        data = data[part]
    return data


@pytest.mark.parametrize(("field", "audience"), sorted(EXPECTED))
def test_each_audience_gets_what_the_table_says(field: str, audience: Audience) -> None:
    petition = registered_case()
    events = list(petition.collect_events())
    registered = events[0]
    want = EXPECTED[(field, audience)]
    assert treatment(audience, field, "Registered") is want
    raw = lookup({k: plain(v) for k, v in vars(registered).items()}, field)
    if audience is A.PETITIONER:  # their case and the public steps, units by name
        data = {**outputs(petition, events)[audience][0], **outputs(petition, events)[
            audience][1]}
        raw = ORG.get(raw).name if field == "received_by" else raw
    elif audience in (A.STAFF, A.STAFF_PII):
        data = outputs(petition, events)[audience][1] | {"actor": registered.actor}
    else:
        data = outputs(petition, events)[audience][0]
    got = lookup(data, field)
    expected = {T.SHOWN: raw, T.REDACTED: REDACTED, T.REMOVED: T.REMOVED}[want]
    assert got == expected


def test_disclose_copies_and_leaves_unnamed_fields_to_staff_and_subscribers() -> None:
    data = {"petitioner": {"name": "x"}, "location": {"district": "D1", "address": "a"},
            "note": "internal"}
    assert disclose(A.STAFF, data) == {"petitioner": REDACTED,
                                       "location": {"district": "D1", "address": "a"},
                                       "note": "internal"}
    assert disclose(A.AUDITOR, data)["location"] == {"district": "D1"}
    assert data["location"] == {"district": "D1", "address": "a"}  # the input is kept
    assert disclose(A.PETITIONER, data) == {}
    assert disclose(A.PETITIONER, {"note": "n", "reason": "r"}, "Declined") == {"reason": "r"}
    assert disclose(A.PETITIONER, {"reason": "r"}, "SupervisionIssued") == {}


def test_every_named_field_has_a_treatment_for_every_audience() -> None:
    assert all(set(by) == set(Audience) for by in PERSONAL_DATA.values())


def strings(data: Any) -> list[Any]:
    """Every leaf of plain data (strings and numbers)."""
    if isinstance(data, dict):
        return [leaf for value in data.values() for leaf in strings(value)]
    if isinstance(data, list):
        return [leaf for value in data for leaf in strings(value)]
    return [data]


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
               max_size=12)
TARGETS = [Status.REGISTERED, Status.DECLINED, Status.WITHDRAWN, Status.IN_HANDLING,
           Status.CLOSED, Status.UNDER_REVIEW, Status.RE_REVIEWED]


@settings(max_examples=60, deadline=None)
@given(name=TEXT, id_number=TEXT, phone=TEXT, content=TEXT, address=TEXT,
       lat=st.floats(18.01, 53.99).filter(lambda x: not x.is_integer()),
       lon=st.floats(73.01, 134.99).filter(lambda x: not x.is_integer()),
       target=st.sampled_from(TARGETS))
def test_no_personal_value_of_any_case_reaches_an_audience_that_must_not_see_it(
        name: str, id_number: str, phone: str, content: str, address: str, lat: float,
        lon: float, target: Status) -> None:
    secrets = {"name": "名:" + name, "id_number": "证:" + id_number, "phone": "电:" + phone,
               "content": "文:" + content, "address": "址:" + address}
    petition = registered_case(secrets["name"], secrets["id_number"], secrets["phone"],
                               secrets["content"], secrets["address"], lat, lon)
    while petition.status is not target:
        step(petition, ORG, POLICY, target)
    events = list(petition.collect_events())
    stored = events[0]  # as the domain keeps them (text normalised)
    secrets = {"name": stored.petitioner.name, "id_number": stored.petitioner.id_number,
               "phone": stored.petitioner.phone, "content": stored.content,
               "address": stored.location.address}
    seen = {audience: strings(out) for audience, out in outputs(petition, events).items()}

    def shows(audience: Audience, secret: Any) -> bool:
        if isinstance(secret, float):  # a coordinate: only another float can be it
            return any(isinstance(leaf, float) and leaf == secret for leaf in seen[audience])
        return any(isinstance(leaf, str) and secret in leaf for leaf in seen[audience])

    person = (secrets["name"], secrets["id_number"], secrets["phone"])
    for audience in (A.STAFF, A.AUDITOR, A.SUBSCRIBER, A.PETITIONER):
        assert not [s for s in person if shows(audience, s)], audience
    for audience in (A.AUDITOR, A.AUDITOR_PII, A.PETITIONER):
        assert not [s for s in (secrets["content"], secrets["address"], lat, lon)
                    if shows(audience, s)], audience
    for audience in Audience:
        assert not shows(audience, "secret-hash"), audience
    assert all(shows(A.STAFF_PII, s) for s in person)  # the test can see what it looks for
    assert all(shows(A.AUDITOR_PII, s) for s in person)
    assert shows(A.STAFF, secrets["content"]) and shows(A.SUBSCRIBER, secrets["address"])
