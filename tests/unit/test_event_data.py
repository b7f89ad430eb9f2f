"""``event_data`` walks an event once and gives exactly what disclosing its plain fields gives,
for every event type and every audience (the audit trail's payloads, the relay's envelopes and
the histories all come from it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.petition import Petition
from projections.audit_trail import redacted_payload
from tests.unit.builders import register
from tests.unit.test_snapshots import FILES, SCRIPTS, S
from workflows.case_summary import event_data, plain
from workflows.privacy import Audience, disclose

META = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def disclosed(event: Any, audience: Audience) -> dict[str, Any]:
    """The definition: every field made plain, then disclosed as a whole."""
    data = {k: plain(v) for k, v in vars(event).items() if k not in META}
    return disclose(audience, data, type(event).__name__)


def history(org: Any, policy: Any, script: str) -> list[Any]:
    p: Petition = register(org, attachments=FILES)
    events = list(p.collect_events())
    for name in SCRIPTS[script]:
        S[name](p, org, policy)
        events += p.collect_events()
    return events


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_one_walk_equals_disclosing_the_plain_fields(org, policy, script) -> None:
    for event in history(org, policy, script):
        for audience in Audience:
            expected = disclosed(event, audience)
            assert event_data(event, audience) == expected
            assert list(event_data(event, audience)) == list(expected)  # the same order
            short = {k: v for k, v in expected.items() if k not in ("at", "actor")}
            assert event_data(event, audience, without=("at", "actor")) == short


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_the_trail_payload_is_the_auditors_data_as_json_dumps_writes_it(org, policy,
                                                                        script) -> None:
    for event in history(org, policy, script):
        data = disclosed(event, Audience.AUDITOR)
        data.pop("at", None)
        data.pop("actor", None)
        assert redacted_payload(event) == json.dumps(data, default=str, sort_keys=True,
                                                     ensure_ascii=False)
