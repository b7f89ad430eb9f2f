"""`petition serve` with KAFKA_BOOTSTRAP_SERVERS set runs the relay in its own process."""

from __future__ import annotations

import dataclasses
import json

from fastapi.testclient import TestClient

from adapters.http.app import create_app
from tests.integration.helpers import register_command
from tests.kafka_broker import dedup, read_topic
from workflows.access import Role


def test_the_service_publishes_what_it_registers(settings, kafka_broker):
    settings = dataclasses.replace(settings, kafka_bootstrap_servers=kafka_broker.bootstrap,
                                   supervision_interval=0)
    api = create_app(settings, run_projections=True)
    token = api.state.engine.tokens.issue(Role.INTAKE, "QH-D01").token
    body = register_command().model_dump(mode="json", exclude={"actor"})
    with TestClient(api) as client:
        answer = client.post("/petitions", json=body, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 201, answer.text
        messages = read_topic(kafka_broker.bootstrap, settings.kafka_topic, at_least=1)
    # Delivery is at least once (docs/subscribers.md): a relay batch re-sent after a lost
    # acknowledgement arrives twice under the same event_id, which subscribers drop.
    envelopes = dedup([envelope for _, envelope in messages])
    assert [e["type"] for e in envelopes] == ["Registered"]
    assert envelopes[0]["case_id"] == answer.json()["case_id"]
    published = json.dumps(envelopes, ensure_ascii=False)
    for personal in body["petitioner"].values():
        assert personal not in published
