"""The FastAPI application around what the composition root (adapters/wiring.py) built."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from adapters.blobs.config import build_blob_store
from adapters.engine import Engine
from adapters.http import errors, openapi, request_log
from adapters.http.body_limit import BodyLimit
from adapters.http.routes import (
    analytics,
    attachments,
    audit,
    health,
    petitioner,
    petitions,
    proxies,
    reads,
    receptions,
    supervision,
)
from adapters.settings import Settings
from adapters.sqlite_file import IntegrityWatch
from adapters.wiring import Root
from projections.similar_cases import SimilarCasesFollower
from workflows.clock import Clock
from workflows.command_table import COMMANDS
from workflows.notifier import Notifier

WARM_WAIT = 10.0
"""Seconds start-up waits for the similar-cases index's first read of the log."""

FILING_PATH = "/citizen/file"  # the form that carries files: its own, larger body limit
CITIZEN_UPLOAD_PATH = "/citizen/case/add-attachment"  # the follow page's one more file


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               engine: Engine | None = None, root: Root | None = None,
               run_projections: bool = False, pages: bool = True,
               notifier: Notifier | None = None, views_elsewhere: bool = False) -> FastAPI:
    """The API over what ``root`` built (by default from ``settings``, else the environment);
    pass ``engine`` to share one with tests.

    With ``run_projections`` the read models follow the log in background threads of this
    process from start-up until shutdown, with the supervision timer and the Kafka relay when
    configured. ``pages`` adds the citizens' pages under /citizen (adapters/pages), whose phone
    codes go through ``notifier`` (default: the configured one). ``views_elsewhere``: an
    API-only process (``serve --workers N``) whose reads wait for the views that `petition
    worker` follows in another process.
    """
    if engine is None:
        if root is None:
            root = (Root(settings, clock=clock) if settings is not None
                    else Root.from_environment(clock=clock))
        engine = Engine(settings=root.settings, app=root.app, tokens=root.tokens,
                        views=root.views)
    services = root or Root(engine.settings, app=engine.app, tokens=engine.tokens,
                            views=engine.views)
    engine.views = engine.views or services.views
    engine.views_elsewhere = views_elsewhere
    if engine.blobs is None:
        engine.blobs = build_blob_store(engine.settings, engine.app.mapper.cipher)
    if engine.similar is None:
        engine.similar = services.similar_cases()
    if engine.throttle is None:
        engine.throttle = services.query_code_throttle()
    if engine.integrity is None and not engine.settings.is_postgres:
        engine.integrity = IntegrityWatch(Path(engine.settings.store),
                                          engine.settings.integrity_check_seconds,
                                          engine.settings.integrity_recheck_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        timer = relay = None
        inbound: dict[str, Any] = {}
        # a serving process (with its views, or API-only beside a worker) keeps its
        # similar-cases index warm, so POST /analytics/similar never reads the whole log
        similar = None
        if run_projections or views_elsewhere:
            similar = engine.loops["similar_cases"] = SimilarCasesFollower(engine.similar).start()
        if run_projections and engine.runner is None:
            runner = engine.runner = services.projection_runner().start()
            if engine.settings.supervision_interval > 0:
                timer = services.supervision_timer(
                    runner.views["supervision_queue"],
                    refresh=lambda: runner.wait("supervision_queue",
                                                engine.app.recorder.max_notification_id(),
                                                timeout=30)).start()
                engine.loops["supervision"] = timer
            if engine.settings.kafka_bootstrap_servers:
                relay = services.relay()
                relay.start()
                engine.loops["relay"] = relay
            if services.runs_inbound:  # 12345 / 一网通办 work orders (adapters/kafka/inbound.py)
                inbound = services.inbound_loops()
                for name, loop in inbound.items():
                    loop.start()
                    engine.loops[name] = loop
        if similar is not None:  # after the other loops have started, not before them
            # a short log is read before the first request; a long one goes on in the
            # background, /readyz 503 "warming up" meanwhile
            await asyncio.to_thread(similar.warmed.wait, WARM_WAIT)
        yield
        if similar is not None:
            similar.stop()
        engine.loops.clear()
        for loop in inbound.values():
            loop.close()
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
    uploads = "|".join(re.escape(spec.action) for spec in COMMANDS if spec.upload)
    api.add_middleware(BodyLimit, max_bytes=engine.settings.max_body_bytes, larger={
        re.escape(FILING_PATH): engine.settings.filing_form_bytes,
        re.escape(CITIZEN_UPLOAD_PATH): engine.settings.upload_form_bytes,
        rf"/petitions/[^/]+/(?:{uploads})": engine.settings.upload_form_bytes})
    request_log.install(api)  # outermost: ids, logs and answers whatever happens inside
    api.include_router(health.router)
    api.include_router(petitions.build_router(),
                       responses=errors.responses(401, 403, 404, 409, 422, 503))
    api.include_router(petitioner.router, responses=errors.responses(404, 409, 422, 429, 503))
    api.include_router(reads.router, responses=errors.responses(401, 403, 422, 503))
    api.include_router(proxies.router, responses=errors.responses(401, 403, 422, 503))
    api.include_router(audit.router, responses=errors.responses(401, 403, 404, 422, 503))
    api.include_router(attachments.router,
                       responses=errors.responses(401, 403, 404, 422, 503))
    api.include_router(supervision.router, responses=errors.responses(401, 403, 422, 503))
    api.include_router(receptions.router, responses=errors.responses(401, 403, 404, 409, 422,
                                                                     429, 503))
    api.include_router(analytics.router, responses=errors.responses(401, 403, 422, 503))
    if pages:
        from adapters.pages import install as install_pages

        install_pages(api, notifier or services.notifier(), services.citizen_sessions(),
                      services.citizen_filing())
    openapi.install(api, engine.app.org)
    return api
