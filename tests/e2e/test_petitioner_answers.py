"""The petitioner's commands answer with the case as the command left it, on both stores.

``POST /status/rate`` and ``/status/review`` answer, as the staff routes do, with the case at
the version their command wrote (read from this process's cache, not the store); a request
replayed with its Idempotency-Key gets the first answer's case, even after the case moved on.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.integration.helpers import register_sample, run_steps

RATING = {"attitude": "satisfied", "efficiency": "basically_satisfied", "quality": "satisfied",
          "comment": "处理及时"}


def test_a_rating_answers_with_the_case_it_left_and_a_replay_with_the_first(api, client: TestClient,
                                                                          clock):
    app = api.state.engine.app
    registered = register_sample(app)
    run_steps(app, clock, registered.case_id, "answer")
    code = registered.query_code
    followed = client.post("/status", json={"query_code": code})  # delivers the answer
    assert followed.status_code == 200 and followed.json()["answer_delivered_at"]
    key = {"Idempotency-Key": "rate-once"}
    rated = client.post("/status/rate", json={"query_code": code, **RATING}, headers=key)
    assert rated.status_code == 200, rated.text
    first = rated.json()
    assert first["status"] == "answered" and first["ratings"]
    assert first == client.post("/status", json={"query_code": code}).json()  # the same case
    clock.advance(timedelta(days=1))
    reviewing = client.post("/status/review", json={"query_code": code, "reason": "仍未修好"})
    assert reviewing.status_code == 200 and reviewing.json()["status"] == "under_review"
    assert reviewing.json() == client.post("/status", json={"query_code": code}).json()
    replayed = client.post("/status/rate", json={"query_code": code, **RATING}, headers=key)
    assert replayed.status_code == 200 and replayed.json() == first  # not the case now
