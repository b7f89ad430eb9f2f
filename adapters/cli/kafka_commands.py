"""Kafka commands: ``petition relay``, ``petition relay status``, ``petition subscribe``."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from adapters.cli.errors import run_guarded
from adapters.cli.output import print_json, print_mapping
from adapters.cli.root import root
from adapters.kafka.subscriber import Subscriber, SubscriberConfig, print_json_line
from adapters.settings import Settings

relay_app = typer.Typer(
    help="Publish every case event to Kafka (KAFKA_BOOTSTRAP_SERVERS, PETITION_KAFKA_TOPIC).",
    invoke_without_command=True,
    no_args_is_help=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(relay_app, name="relay")
    app.command("subscribe")(subscribe)


def _settings() -> Settings:
    return root().settings


def _require_broker(settings: Settings) -> str:
    if not settings.kafka_bootstrap_servers:
        raise typer.BadParameter("set KAFKA_BOOTSTRAP_SERVERS (e.g. kafka:9092)")
    return settings.kafka_bootstrap_servers


@relay_app.callback()
def relay(
    ctx: typer.Context,
    batch_size: Annotated[int, typer.Option(help="Events per broker round trip.")] = 500,
    max_failures: Annotated[int, typer.Option(
        help="Exit (code 1) after this many consecutive failed attempts; 0: retry forever."
    )] = 0,
) -> None:
    """Run the relay until SIGTERM/SIGINT; it resumes from its recorded position."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    _require_broker(settings)
    relay = root().relay(batch_size=batch_size, max_failures=max_failures or None)
    stop_on_signals(relay.stop)
    try:
        relay.run()
    finally:
        relay.app.close()


@relay_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The relay's position in the event log and how far behind the log's head it is."""
    services = root()
    try:
        out = services.relay_status().as_dict()
    finally:
        services.app.close()
    print_json(out) if as_json else print_mapping("kafka relay", out)


def subscribe(
    group: Annotated[str, typer.Option(help="Consumer group; instances of a group share.")],
    from_beginning: Annotated[bool, typer.Option(
        "--from-beginning", help="A new group starts at the oldest event, not the next one.")
    ] = False,
    max_events: Annotated[int, typer.Option(help="Exit after this many events; 0: never.")] = 0,
    idle_exit: Annotated[float, typer.Option(
        help="Exit after this many seconds without a new event; 0: never.")] = 0,
    max_poll_interval_ms: Annotated[int, typer.Option(
        help="Consumer max.poll.interval.ms (also the group's rebalance timeout).")] = 30_000,
) -> None:
    """Print every case event as one JSON line, each once, committing after printing."""
    settings = _settings()
    config = SubscriberConfig(
        bootstrap_servers=_require_broker(settings), group=group, topic=settings.kafka_topic,
        from_beginning=from_beginning, max_poll_interval_ms=max_poll_interval_ms)
    stop = threading.Event()
    stop_on_signals(stop.set)
    with Subscriber(config, print_json_line) as subscriber:
        subscriber.run(stop, max_events=max_events or None, idle_exit=idle_exit or None)


def stop_on_signals(stop: object) -> None:
    """SIGTERM (docker stop) and SIGINT end the loop cleanly."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop())  # type: ignore[operator]


if __name__ == "__main__":  # python -m adapters.cli.kafka_commands, before main.py registers it
    standalone = typer.Typer(no_args_is_help=True, add_completion=False)
    register(standalone)
    run_guarded(standalone)
