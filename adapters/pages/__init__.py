"""The citizens' pages (网上信访): server-rendered HTML under /citizen, beside the API.

``install`` mounts them on the API's FastAPI app: templates, static files (a vendored htmx),
translations, the CSRF guard and the filing drafts all ship inside this package.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from adapters.blobs.uploads import Limits
from adapters.pages import routes, security
from adapters.pages.drafts import FilingStore
from adapters.pages.filing import Filing
from adapters.pages.sessions import Sessions
from workflows.notifier import Notifier

STATIC = Path(__file__).parent / "static"


def install(api: FastAPI, notifier: Notifier, sessions: Sessions | None = None,
            filing: FilingStore | None = None) -> None:
    """``notifier``: the composition root's (``Root.notifier``), or a test's; ``sessions`` and
    ``filing``: the root's (``Root.citizen_sessions``, ``Root.citizen_filing``, shared by every
    process on the store), by default this process's memory."""
    engine = api.state.engine
    api.state.pages_guard = security.Guard(sessions)
    settings = engine.settings
    api.state.pages_filing = Filing(
        engine.app, notifier,
        blobs=engine.blobs,
        limits=Limits(settings.attachment_max_bytes, settings.attachment_max_count),
        store=filing)
    api.middleware("http")(security.headers)
    api.mount("/citizen/static", StaticFiles(directory=STATIC), name="citizen-static")
    api.include_router(routes.router)
