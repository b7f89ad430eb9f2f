"""`petition worker ROLE`: the views, the supervision timer, the relay (or all of them) in a
process of their own, each part led by one process at a time (adapters/leadership.py)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import structlog
import typer

from adapters.cli.root import root
from adapters.roles import RoleUnavailable

log = structlog.get_logger("petition.worker")


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    role: Annotated[str, typer.Argument(
        help="views, supervision, relay, inbound, or all (every role this configuration "
             "can run).")] = "all",
    port: Annotated[int | None, typer.Option(
        help="Serve /healthz and /readyz on this port.")] = None,
    host: Annotated[str, typer.Option(help="Interface for --port.")] = "127.0.0.1",
    poll: Annotated[float, typer.Option(
        min=0.1, help="Seconds between a standby's tries of the leader lock.")] = 1.0,
) -> None:
    """Run background roles; start one on each of two machines: the second stands by and
    takes over within a poll when the first dies."""
    services = root()
    if role != "all" and role not in services.roles:
        raise typer.BadParameter(f"unknown role {role!r}; one of: "
                                 f"{', '.join([*services.roles, 'all'])}", param_hint="ROLE")
    if role == "all":  # the store first: `all` logs the roles it leaves out
        services.app  # noqa: B018 - proves the keys and creates the tables before leading
    try:
        leaders = services.leaders(role, poll=poll)
    except RoleUnavailable as why:
        raise typer.BadParameter(str(why), param_hint="ROLE") from None
    services.app  # noqa: B018 - a named role is refused before the store is opened
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    health = None
    if port is not None:
        from adapters.worker_health import serve_health

        health = serve_health(leaders, host, port)
    for leader in leaders:
        leader.begin()
    log.info("worker.started", role=role, parts=[leader.part for leader in leaders])
    stop.wait()
    log.info("worker.stopping", role=role)
    for leader in leaders:
        leader.stopped.set()
    for leader in leaders:
        leader.end()
    if health is not None:
        health.shutdown()
