"""docker-compose.yml only asks the engine for what it has (no Docker engine runs here).

Every service built from our image runs a ``petition`` command that exists, health checks
included, and every variable it sets is one adapters/settings.py reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from adapters.cli import kafka_commands
from adapters.cli.main import app as main_app

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
# Commands that other in-flight issues add to the CLI; the compose file declares them already.
# Remove an entry once its command is registered in adapters/cli/main.py.
EXPECTED_FROM_OTHER_WORK = {
    ("serve",),  # the HTTP API (its own issue)
    ("projections", "run"),  # the projection worker (its own issue)
}


def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]


def ours() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services().items() if s.get("build") == "."}


def cli() -> Any:
    """The ``petition`` command tree (typer vendors its own click: duck-typed here)."""
    names = {c.name for c in main_app.registered_commands}
    names |= {g.name for g in main_app.registered_groups}
    app = typer.Typer()
    app.registered_commands = list(main_app.registered_commands)
    app.registered_groups = list(main_app.registered_groups)
    if "relay" not in names:  # until adapters/cli/main.py registers the Kafka commands
        kafka_commands.register(app)
    return typer.main.get_command(app)


def command_path(argv: list[str]) -> tuple[str, ...]:
    """The (sub)command names at the start of ``argv``, checked against the CLI."""
    group = cli()
    path: list[str] = []
    for word in argv:
        if word.startswith("-") or not hasattr(group, "commands"):
            break
        sub = group.commands.get(word)
        if sub is None:
            if path and group.invoke_without_command:
                break  # an argument of a group that runs itself (``relay``)
            raise LookupError(" ".join([*path, word]))
        path.append(word)
        group = sub
    return tuple(path)


def commands_of(service: dict[str, Any]) -> list[list[str]]:
    found = [list(service["command"])]
    test = (service.get("healthcheck") or {}).get("test") or []
    if test[:2] == ["CMD", "petition"]:
        found.append(test[2:])
    return found


def test_the_compose_file_has_the_issue_services():
    assert {"postgres", "kafka", "api", "relay", "projections"} <= set(services())
    kafka = services()["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert all("healthcheck" in services()[s] for s in ("postgres", "kafka", "relay"))
    assert ours()["relay"]["command"] == ["relay"]


@pytest.mark.parametrize("service", sorted(ours()))
def test_every_command_exists_in_the_cli(service):
    for argv in commands_of(ours()[service]):
        try:
            command_path(argv)
        except LookupError:
            assert any(tuple(argv[: len(e)]) == e for e in EXPECTED_FROM_OTHER_WORK), (
                f"{service}: `petition {' '.join(argv)}` does not exist")


@pytest.mark.parametrize("service", sorted(ours()))
def test_every_variable_is_read_by_the_app(service):
    settings_source = (ROOT / "adapters" / "settings.py").read_text(encoding="utf-8")
    unknown = [v for v in ours()[service].get("environment", {})
               if f'"{v}"' not in settings_source]
    assert unknown == []


def test_the_relay_variables_reach_the_settings():
    from adapters.settings import Settings

    env = {k: str(v) for k, v in ours()["relay"]["environment"].items()}
    settings = Settings.from_env(env)
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.kafka_topic == "petition.events"
    assert (settings.kafka_partitions, settings.kafka_replication) == (12, 1)
    assert Settings.from_env(ours()["api"]["environment"]).kafka_bootstrap_servers is None
