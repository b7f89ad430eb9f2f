"""Query-code guessing is throttled per client and per code (adapters/throttle.py).

Decided behaviour (docs/api.md): every attempt counts against the client's address; a failed
attempt also counts against the code tried. Past either limit the answer is 429 with
Retry-After. A guesser never locks the petitioner out: the right code keeps working for every
other client, because failures count against the codes guessed, not the code guessed at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.throttle import QueryCodeThrottle
from tests.e2e.conftest import DISTRICT, Staff, register_body


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(api: FastAPI) -> FakeTime:
    time = FakeTime()
    api.state.engine.throttle = QueryCodeThrottle(per_client=6, per_code_failures=3,
                                                  window=60, clock=time)
    return time


@pytest.fixture
def code(client: TestClient, staff: Staff) -> str:
    response = client.post("/petitions", json=register_body(),
                           headers=staff.headers("intake", DISTRICT))
    return response.json()["query_code"]


def from_address(api: FastAPI, host: str) -> Iterator[TestClient]:
    with TestClient(api, client=(host, 40000)) as other:
        yield other


@pytest.fixture
def guesser(api: FastAPI) -> Iterator[TestClient]:
    yield from from_address(api, "203.0.113.7")


@pytest.fixture
def petitioner(api: FastAPI) -> Iterator[TestClient]:
    yield from from_address(api, "198.51.100.23")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_guesser_is_stopped_but_the_petitioner_is_not(
    guesser: TestClient, petitioner: TestClient, code: str, ticks: FakeTime
) -> None:
    for attempt in range(6):
        wrong = guesser.post("/status", json={"query_code": f"WRNG-CODE-{attempt:04d}"})
        assert wrong.status_code == 404
    stopped = guesser.post("/status", json={"query_code": "WRNG-CODE-9999"})
    assert stopped.status_code == 429
    assert stopped.json()["error"] == "too_many_attempts"
    assert 1 <= int(stopped.headers["Retry-After"]) <= 60
    # even the right code is refused to this client while it is throttled …
    assert guesser.post("/status", json={"query_code": code}).status_code == 429
    # … but the petitioner, from elsewhere, is not locked out
    mine = petitioner.post("/status", json={"query_code": code})
    assert mine.status_code == 200 and mine.json()["status"] == "registered"
    # the window slides: later the guesser may try again
    ticks.now += 61
    assert guesser.post("/status", json={"query_code": "WRNG-CODE-0000"}).status_code == 404


@pytest.mark.parametrize("backend", ["sqlite"])
def test_one_wrong_code_tried_from_many_addresses_is_stopped(
    api: FastAPI, code: str, ticks: FakeTime
) -> None:
    wrong = {"query_code": "WRNG-CODE-0001"}
    answers = []
    for host in range(5):
        for other in from_address(api, f"192.0.2.{host}"):
            answers.append(other.post("/status", json=wrong).status_code)
    assert answers == [404, 404, 404, 429, 429]
    for other in from_address(api, "192.0.2.200"):
        assert other.post("/status", json={"query_code": code}).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"])
def test_rating_and_review_count_too(guesser: TestClient, ticks: FakeTime) -> None:
    rate = {"query_code": "WRNG-CODE-0001", "attitude": "satisfied",
            "efficiency": "satisfied", "quality": "satisfied"}
    statuses = [guesser.post("/status/rate", json=rate).status_code for _ in range(3)]
    statuses += [guesser.post("/status/review", json={"query_code": "WRNG-CODE-0001",
                                                       "reason": "x"}).status_code]
    assert statuses == [404, 404, 404, 429]
