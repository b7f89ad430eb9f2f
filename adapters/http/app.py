"""Builds the FastAPI application around one PetitionApplication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from adapters.http import errors, openapi, request_log
from adapters.http.body_limit import BodyLimit
from adapters.http.engine import Engine
from adapters.http.routes import analytics, audit, health, petitions, reads, status, supervision
from adapters.settings import Settings
from adapters.wiring import build_application
from projections.runner import ProjectionRunner
from workflows.clock import Clock
from workflows.notifier import Notifier
from workflows.supervision.process import SupervisionProcess
from workflows.supervision.timer import SupervisionTimer
from workflows.tokens import TokenService


def supervision_timer(engine: Engine) -> SupervisionTimer:
    """The closed loop in the service: ticks on the in-process supervision queue."""
    app, runner = engine.app, engine.runner
    return SupervisionTimer(
        app,
        SupervisionProcess(app, runner.views["supervision_queue"]),
        refresh=lambda: runner.wait("supervision_queue", app.recorder.max_notification_id(),
                                    timeout=30),
        interval=engine.settings.supervision_interval,
    )


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               engine: Engine | None = None, run_projections: bool = False,
               pages: bool = True, notifier: Notifier | None = None) -> FastAPI:
    """The API over the configured store; pass ``engine`` to share one with tests.

    With ``run_projections`` the read models follow the log in background threads of this
    process from start-up until shutdown. ``pages`` adds the citizens' pages under /citizen
    (adapters/pages), whose phone codes go through ``notifier`` (default: the configured one).
    """
    if engine is None:
        settings = settings or Settings.from_env()
        application = build_application(settings, clock=clock)
        engine = Engine(settings=settings, app=application,
                        tokens=TokenService(application, application.org, application.clock))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        timer = relay = None
        if run_projections and engine.runner is None:
            engine.runner = ProjectionRunner(engine.app).start()
            if engine.settings.supervision_interval > 0:
                timer = supervision_timer(engine).start()
                engine.loops["supervision"] = timer
            if engine.settings.kafka_bootstrap_servers:
                from adapters.kafka.relay import build_relay

                relay = build_relay(engine.settings)
                relay.start()
                engine.loops["relay"] = relay
        yield
        engine.loops.clear()
        if relay is not None:
            relay.close()
        if timer is not None:
            timer.stop()
        if engine.runner is not None:
            engine.runner.stop()
            engine.runner = None

    api = FastAPI(
        title="Petition engine (信访)",
        version="1",
        description="Register, route, answer, rate, supervise and audit citizen petitions.",
        lifespan=lifespan,
    )
    api.state.engine = engine
    errors.install(api)
    api.add_middleware(BodyLimit, max_bytes=engine.settings.max_body_bytes)
    request_log.install(api)  # outermost: ids, logs and answers whatever happens inside
    api.include_router(health.router)
    api.include_router(petitions.build_router(),
                       responses=errors.responses(401, 403, 404, 409, 422, 503))
    api.include_router(status.router, responses=errors.responses(404, 409, 422, 429, 503))
    api.include_router(reads.router, responses=errors.responses(401, 403, 422, 503))
    api.include_router(audit.router, responses=errors.responses(401, 403, 404, 422, 503))
    api.include_router(supervision.router, responses=errors.responses(401, 403, 422, 503))
    api.include_router(analytics.router, responses=errors.responses(401, 403, 422, 503))
    if pages:
        from adapters.pages import install as install_pages

        install_pages(api, notifier)
    openapi.install(api, engine.app.org)
    return api
