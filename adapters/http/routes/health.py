"""Liveness and readiness for orchestrators and load balancers.

``/readyz`` is honest and quick: 503 when the store does not answer within a second, when the
SQLite file was found damaged (the start-up check, repeated in the background at most every
``PETITION_INTEGRITY_RECHECK_SECONDS``), or when any loop of this process (a view, the
supervision timer, the Kafka relay) is retrying or stalled — naming it, and for a stalled view
the event position, the case and the error. It never answers 500: whatever goes wrong while
checking is itself "not ready". An API-only process (``serve --workers N``) shows the views'
positions as stored but is ready whatever they are: they are followed by `petition worker`,
whose own /readyz answers for them. The similar-cases index shows its position and how far it
is behind the log (``caught_up_to``, ``behind``); the process is not ready until the index has
read the log once since it started ("warming up"), and stays ready through a later lag.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from adapters.engine import Engine
from adapters.http.auth import Eng
from adapters.rest_days import years_not_covered
from workflows.retrying import describe

router = APIRouter(tags=["health"])
READY_WITHIN = 0.9  # seconds the checks may take before the answer is "not ready"


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The store answers and every loop follows; how far views lag",
            responses={503: {"description": "The store does not answer, or a view, the "
                                             "supervision timer or the relay is retrying or "
                                             "stalled (named in `not_ready`)"}})
def readyz(eng: Eng) -> JSONResponse:
    try:
        # set on PostgreSQL by adapters/persistence/postgres.py; SQLite has no server to lose
        guard = getattr(eng.app.factory.datastore, "guard", None)  # type: ignore[attr-defined]
        if guard is not None and guard.is_down:
            return _unavailable("store", [f"store not answering since "
                                          f"{guard.down_since.isoformat()}: {guard.error}"])
        damage = eng.integrity.problem() if eng.integrity is not None else None
        if damage:  # found by the last background quick_check (SQLite)
            return _unavailable("store", [f"the store file is damaged ({damage}); stop every "
                                          "process using it and restore it and its keys/ "
                                          "folder from a backup"])
        body = _bounded(eng)
    except TimeoutError:
        return _unavailable("store", [f"store did not answer within {READY_WITHIN} s"])
    except Exception as error:  # noqa: BLE001 - any failure while checking means "not ready"
        return _unavailable(type(error).__name__, [describe(error)])
    if body["not_ready"]:
        return JSONResponse({"status": "unavailable", "reason": body["not_ready"][0], **body},
                            status_code=503)
    del body["not_ready"]
    return JSONResponse({"status": "ready", **body})


def _unavailable(reason: str, not_ready: list[str]) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason, "not_ready": not_ready},
                        status_code=503, headers={"Retry-After": "5"})


_pending: dict[int, Future[dict[str, Any]]] = {}
_pending_lock = threading.Lock()


def _bounded(eng: Engine) -> dict[str, Any]:
    """The checks, in a thread of their own, waited for at most ``READY_WITHIN``; a check
    still running from an earlier request is waited for again rather than started twice."""
    with _pending_lock:
        future = _pending.get(id(eng))
        if future is None or future.done():
            future = Future()
            _pending[id(eng)] = future
            threading.Thread(target=_run, args=(eng, future), daemon=True,
                             name="readiness").start()
    return future.result(timeout=READY_WITHIN)


def _run(eng: Engine, future: Future[dict[str, Any]]) -> None:
    try:
        future.set_result(_checks(eng))
    except BaseException as error:  # noqa: BLE001 - handed to the request
        future.set_exception(error)


def _checks(eng: Engine) -> dict[str, Any]:
    body: dict[str, Any] = {"events": eng.app.recorder.max_notification_id() or 0,
                            "not_ready": []}
    app = eng.app
    body["calendar_years_not_covered"] = years_not_covered(  # deadlines there are provisional
        app.policy.rest_days, app.clock.now().astimezone(app.policy.zone).date())
    runner = eng.runner
    if runner is not None:
        from projections.runner import status

        body["projections"] = status(eng.app, runner.storage, runner.views, runner.health)
        body["not_ready"] += [h.summary() for h in runner.health.values() if not h.ok]
    elif eng.views_elsewhere:  # `petition worker` follows them: shown, not this process's fault
        from projections.runner import status

        body["projections"] = status(eng.app, eng.views)
    for name, loop in getattr(eng, "loops", {}).items():
        health = getattr(loop, "health", None)
        if health is not None:
            body[name] = health.as_dict()
            progress = getattr(loop, "progress", None)  # the similar-cases index's catch-up
            if progress is not None:
                body[name] |= progress(body["events"])
            if not health.ok:
                body["not_ready"].append(health.summary())
            warming = getattr(loop, "warming", None)  # the similar-cases index's first read
            reason = warming(body["events"]) if warming is not None else None
            if reason and health.ok:
                body["not_ready"].append(reason)
    return body
