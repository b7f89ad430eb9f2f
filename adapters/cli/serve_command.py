"""`petition serve`: the HTTP API — alone, everything in one process; with ``--workers N``,
N API-only processes (the views, supervision and relay then run in `petition worker`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
import uvicorn

from adapters.cli.output import console
from adapters.cli.root import root
from adapters.settings import Settings
from adapters.wiring import Root


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Serve the API only, from this many processes (PostgreSQL for more than "
                    "one); run `petition worker all` beside them.")] = None,
) -> None:
    """Serve the API on the configured store; OpenAPI at /docs, health at /healthz and /readyz."""
    from adapters.http.app import create_app

    services = root()
    if workers is not None:
        refuse_on_sqlite(services.settings, workers)
    services.app  # noqa: B018 - proves the keys and creates the tables once, before any worker
    console.print(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    console.print(f"citizen pages (网上信访): http://{host}:{port}/citizen")
    console.print("get a token: petition token issue --role intake --unit QH-D01")
    if workers is None:
        api = create_app(root=services, run_projections=True)
        uvicorn.Server(server_config(api, services.settings, host=host, port=port)).run()
    elif workers == 1:
        api = create_app(root=services, views_elsewhere=True)
        uvicorn.Server(server_config(api, services.settings, host=host, port=port)).run()
    else:
        serve_processes(services, workers, host=host, port=port)


def refuse_on_sqlite(settings: Settings, workers: int) -> None:
    """SQLite lets one writer in at a time and lives on one machine: more API processes would
    only queue on its file lock, so more than one is refused (exit 2)."""
    if workers > 1 and not settings.is_postgres:
        raise typer.BadParameter(
            f"{workers} API processes need PostgreSQL (PETITION_STORE=postgresql://…); "
            "SQLite takes one writer at a time: run `petition serve` alone",
            param_hint="'--workers'")


def serve_processes(services: Root, workers: int, *, host: str, port: int) -> None:
    """uvicorn's supervisor: binds the socket once, spawns ``workers`` processes that each
    build their own root (``adapters/http/api_process.py``), restarts one that dies, and stops
    them all on SIGINT/SIGTERM."""
    from adapters.http.api_process import FACTORY

    services.app.close()  # the parent serves nothing: its connections are not inherited
    uvicorn.run(FACTORY, factory=True, workers=workers, host=host, port=port,
                **server_options(services.settings))


def server_config(api: Any, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(api, host=host, port=port, **server_options(settings))


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn as the service runs it: its access log off (it prints query strings), and
    X-Forwarded-For believed only from PETITION_TRUSTED_PROXIES (uvicorn's own default trusts
    127.0.0.1, which would let any local client choose its address for the throttle)."""
    trusted = ",".join(settings.trusted_proxies)
    return {"log_config": None, "access_log": False, "proxy_headers": bool(trusted),
            "forwarded_allow_ips": trusted or ""}
