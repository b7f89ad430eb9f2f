"""`petition inbound run` and `petition inbound status`: external work orders (docs/inbound.md)."""

from __future__ import annotations

import threading
from typing import Annotated

import typer
from kafka.errors import KafkaError

from adapters.cli.kafka_commands import stop_on_signals
from adapters.cli.output import print_json, print_mapping, print_table
from adapters.cli.root import root

inbound_app = typer.Typer(
    help="Register 12345 hotline / 一网通办 work orders from Kafka and reply when answered "
         "(PETITION_INBOUND_MAP, PETITION_INBOUND_TOPIC, KAFKA_BOOTSTRAP_SERVERS).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(inbound_app, name="inbound")


@inbound_app.command("run")
def run(
    max_poll_records: Annotated[int, typer.Option(
        help="Orders per poll, all registered before the poll's offsets are committed.")] = 200,
    max_poll_interval_ms: Annotated[int, typer.Option(
        help="Consumer max.poll.interval.ms (also the group's rebalance timeout).")] = 30_000,
) -> None:
    """Run the consumer and the reply relay until SIGTERM/SIGINT; both resume where they were."""
    services = root()
    if not services.settings.kafka_bootstrap_servers:
        raise typer.BadParameter("set KAFKA_BOOTSTRAP_SERVERS (e.g. kafka:9092)")
    consumer = services.inbound(max_poll_records=max_poll_records,
                                max_poll_interval_ms=max_poll_interval_ms)
    replies = services.inbound_replies()
    stop = threading.Event()
    stop_on_signals(stop.set)
    consumer.start()
    replies.start()
    try:
        stop.wait()
    finally:
        replies.close()
        consumer.close()


@inbound_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The group's lag per partition, the dead-letter count and the reply relay's position."""
    services = root()
    if not services.settings.kafka_bootstrap_servers:
        raise typer.BadParameter("set KAFKA_BOOTSTRAP_SERVERS (e.g. kafka:9092)")
    try:
        out = services.inbound_status().as_dict()
        replies = services.inbound_replies()
        out["replies"] = replies.status().as_dict()
        replies.app.close()
    except KafkaError as error:
        typer.echo(f"broker not reachable: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        services.app.close()
    if as_json:
        print_json(out)
        return
    print_table(f"inbound {out['topic']} (group {out['group']})",
                ("partition", "committed", "end", "lag"),
                ((p["partition"], p["committed"], p["end"], p["lag"]) for p in out["partitions"]))
    print_mapping("inbound", {k: out[k] for k in ("lag", "dead_letter_topic", "dead_letters")}
                  | {"replies_lag": out["replies"]["lag"]})
