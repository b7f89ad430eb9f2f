"""An idempotent retry racing its original gets the stored answer, never 409.

Two requests with the same key: whichever commits second must be recognised — whether the
first committed before its load, between its load and its key lookup, or between the lookup
and its save — and answered from the stored response. The twin is forced into each window
deterministically, then the two race freely on threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.helpers import register_sample
from workflows import commands as c
from workflows.application import CommandResult, Idempotency, PetitionApplication


def accept(case_id: Any) -> c.AcceptPetition:
    return c.AcceptPetition(case_id=case_id, actor="i", handling_track="claim",
                            speed_track="general")


def with_twin_inside(app: PetitionApplication, method: str, twin: Callable[[], object]) -> None:
    """Runs ``twin`` once, right after the first call of ``app.<method>`` returns."""
    original = getattr(app, method)
    fired = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not fired:
            fired.append(True)
            twin()
        return result

    setattr(app, method, wrapped)


@pytest.mark.parametrize("load", ["_cached_copy", "get_petition"])
def test_twin_committing_between_load_and_key_lookup_is_answered_from_the_record(app, load):
    """The case is loaded from this process's cache, or (not cached) from the store."""
    case_id = register_sample(app).case_id
    if load == "get_petition":
        app.repository.cache.get(case_id, evict=True)
    key = Idempotency("token:t", "k-1")
    twins: list[CommandResult] = []
    with_twin_inside(app, load,
                     lambda: twins.append(app.execute(accept(case_id), idempotency=key)))

    result = app.execute(accept(case_id), idempotency=key)

    (twin,) = twins
    assert (result.version, result.status) == (twin.version, twin.status) == (2, "accepted")
    assert app.get_petition(case_id).version == 2  # accepted once


def test_twin_committing_between_key_lookup_and_save_is_answered_from_the_record(app):
    case_id = register_sample(app).case_id
    key = Idempotency("token:t", "k-2")
    twins: list[CommandResult] = []
    with_twin_inside(app, "_replay",
                     lambda: twins.append(app.execute(accept(case_id), idempotency=key)))

    result = app.execute(accept(case_id), idempotency=key)

    (twin,) = twins
    assert (result.version, result.status) == (twin.version, twin.status) == (2, "accepted")
    assert app.get_petition(case_id).version == 2


def test_registration_twin_committing_before_save_gets_the_same_case(app):
    from tests.integration.helpers import register_command

    key = Idempotency("token:t", "k-3")
    request = register_command()  # one request, sent twice: each call would draw a new person
    twins: list[Any] = []
    with_twin_inside(app, "_replay", lambda: twins.append(
        app.register(request, idempotency=key)))

    result = app.register(request, idempotency=key)

    (twin,) = twins
    assert (result.case_id, result.query_code) == (twin.case_id, twin.query_code)


def test_racing_twins_on_threads_both_get_the_first_answer(app):
    rounds, failures = 30, []
    for n in range(rounds):
        case_id = register_sample(app).case_id
        key = Idempotency("token:t", f"race-{n}")
        barrier = threading.Barrier(2)
        results: list[CommandResult] = []

        def run(case_id: Any = case_id, key: Idempotency = key,
                barrier: threading.Barrier = barrier, results: list = results) -> None:
            barrier.wait()
            try:
                results.append(app.execute(accept(case_id), idempotency=key))
            except Exception as error:  # noqa: BLE001 - every failure is the finding
                failures.append(repr(error))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == [], failures
        assert [(r.version, r.status) for r in results] == [(2, "accepted")] * 2
        assert app.get_petition(case_id).version == 2
