"""docker-compose.yml only asks the engine for what it has (no Docker engine runs here).

Every service built from our image runs a ``petition`` command that exists, health checks
included, and every variable it sets is one adapters/settings.py reads. The shape (issue 17.2):
two API replicas (API only), reachable only through the reverse proxy, whose config file
(deploy/nginx.conf) names exactly those replicas on the port they listen on and whose address
is the one they believe X-Forwarded-For from; one worker running every role; PostgreSQL and
Kafka in KRaft mode; a health check on every long-running service, and each waits for the
health of what it needs.
"""

from __future__ import annotations

import ipaddress
import re
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
EXPECTED_FROM_OTHER_WORK: set[tuple[str, ...]] = set()


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


def apis() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in ours().items() if s["command"][0] == "serve"}


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def nginx_upstreams() -> set[str]:
    proxy = services()["proxy"]
    mount = next(v for v in proxy["volumes"] if v.split(":")[1] == "/etc/nginx/nginx.conf")
    conf = (ROOT / mount.split(":")[0]).read_text(encoding="utf-8")
    block = re.search(r"upstream petition_api \{(.*?)\}", conf, re.S)
    assert block is not None and "proxy_pass http://petition_api;" in conf
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # replaced, not appended
    return set(re.findall(r"^\s*server\s+(\S+?)[\s;]", block.group(1), re.M))


def test_the_compose_file_has_the_issue_services():
    assert {"postgres", "kafka", "proxy", "worker"} <= set(services())
    kafka = services()["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert services()["proxy"]["image"].startswith("nginx:")
    assert ours()["worker"]["command"][:2] == ["worker", "all"]


def test_two_api_replicas_serve_the_api_only_behind_the_proxy():
    replicas = apis()
    assert len(replicas) == 2
    for api in replicas.values():
        assert "--workers" in api["command"] and "ports" not in api  # only via the proxy
        assert api["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == ""  # the relay is the worker's
    assert nginx_upstreams() == {f"{name}:{option(api['command'], '--port')}"
                                 for name, api in replicas.items()}
    proxy = services()["proxy"]
    assert proxy["ports"] and set(proxy["depends_on"]) == set(replicas)
    assert {d["condition"] for d in proxy["depends_on"].values()} == {"service_healthy"}


def test_the_api_believes_forwarded_addresses_from_the_proxy_only():
    from adapters.settings import Settings

    proxy = ipaddress.ip_address(services()["proxy"]["networks"]["backend"]["ipv4_address"])
    for api in apis().values():
        trusted = Settings.from_env(api["environment"]).trusted_proxies
        assert trusted == (str(proxy),)


def test_every_long_running_service_has_a_health_check_and_waits_for_its_needs():
    running = {name: s for name, s in services().items() if "profiles" not in s}
    assert all("healthcheck" in s for s in running.values()), sorted(running)
    for name, service in running.items():
        for needed in service.get("depends_on", {}).values():
            assert needed["condition"] == "service_healthy", name
    worker = ours()["worker"]
    assert set(worker["depends_on"]) == {"postgres", "kafka"}
    port = option(worker["command"], "--port")  # its /readyz is what the health check asks
    assert f"127.0.0.1:{port}/readyz" in " ".join(worker["healthcheck"]["test"])
    for api in apis().values():
        assert f"127.0.0.1:{option(api['command'], '--port')}/readyz" in " ".join(
            api["healthcheck"]["test"])


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

    env = {k: str(v) for k, v in ours()["worker"]["environment"].items()}
    settings = Settings.from_env(env)
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.kafka_topic == "petition.events"
    assert (settings.kafka_partitions, settings.kafka_replication) == (12, 1)
    assert settings.is_postgres  # the worker's leader locks are PostgreSQL advisory locks
    for api in apis().values():
        assert Settings.from_env(api["environment"]).kafka_bootstrap_servers is None
