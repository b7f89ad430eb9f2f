"""Liveness and readiness for orchestrators and load balancers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from adapters.http.auth import Eng
from adapters.rest_days import years_not_covered

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The store answers; how far the read models lag",
            responses={503: {"description": "The store does not answer"}})
def readyz(eng: Eng) -> JSONResponse:
    body: dict[str, Any] = {"status": "ready"}
    try:
        body["events"] = eng.app.recorder.max_notification_id() or 0
    except Exception as error:  # noqa: BLE001 - any store failure means "not ready"
        return JSONResponse({"status": "unavailable", "reason": type(error).__name__},
                            status_code=503)
    app = eng.app
    body["calendar_years_not_covered"] = years_not_covered(  # deadlines there are provisional
        app.policy.rest_days, app.clock.now().astimezone(app.policy.zone).date())
    if eng.runner is not None:
        from projections.runner import status

        body["projections"] = status(eng.app, eng.runner.views)
    return JSONResponse(body)
