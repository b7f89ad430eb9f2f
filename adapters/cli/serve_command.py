"""`petition serve`: the HTTP API (and, in the same process, the read models)."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from adapters.cli.output import console
from adapters.cli.root import root
from adapters.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the API on the configured store; OpenAPI at /docs, health at /healthz and /readyz."""
    from adapters.http.app import create_app

    services = root()
    api = create_app(root=services, run_projections=True)
    console.print(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    console.print(f"citizen pages (网上信访): http://{host}:{port}/citizen")
    console.print("get a token: petition token issue --role intake --unit QH-D01")
    uvicorn.Server(server_config(api, services.settings, host=host, port=port)).run()


def server_config(api: object, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    """uvicorn as the service runs it: its access log off (it prints query strings), and
    X-Forwarded-For believed only from PETITION_TRUSTED_PROXIES (uvicorn's own default trusts
    127.0.0.1, which would let any local client choose its address for the throttle)."""
    trusted = ",".join(settings.trusted_proxies)
    return uvicorn.Config(api, host=host, port=port, log_config=None, access_log=False,
                          proxy_headers=bool(trusted), forwarded_allow_ips=trusted or "")
