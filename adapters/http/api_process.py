"""One API-only process of ``petition serve --workers N``.

uvicorn starts each worker process afresh (spawn) and calls ``api()`` in it, so every process
builds its own composition root from the environment — no connection, pool or thread crosses a
process boundary. The views, the supervision timer and the relay run in ``petition worker``.
"""

from __future__ import annotations

from fastapi import FastAPI

from adapters.http.app import create_app
from adapters.logging import configure_logging
from adapters.wiring import Root

FACTORY = f"{__name__}:api"  # what uvicorn imports in each worker process


def api() -> FastAPI:
    root = Root.from_environment()
    configure_logging(root.settings.log_format)
    return create_app(root=root, views_elsewhere=True)
