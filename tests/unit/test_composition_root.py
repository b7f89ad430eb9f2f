"""One composition root: only adapters/wiring.py reads the environment (through Settings) and
builds the services; the CLI, HTTP app and simulation receive what it built."""

from __future__ import annotations

import ast
from pathlib import Path

from adapters.settings import Settings
from adapters.wiring import Root
from tests.unit.builders import T0, small_chart
from workflows.application import PetitionApplication
from workflows.clock import ManualClock

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("adapters", "workflows", "projections")
SERVICES = {"PetitionApplication", "TokenService", "ProjectionRunner", "SupervisionTimer",
            "SupervisionProcess", "Relay", "Simulation", "InboundConsumer", "ViewStore",
            "beside"}


def sources() -> dict[str, ast.Module]:
    return {str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"))
            for layer in LAYERS for path in sorted((ROOT / layer).rglob("*.py"))}


def where(predicate) -> set[str]:  # type: ignore[no-untyped-def]
    return {name for name, tree in sources().items()
            if any(predicate(node) for node in ast.walk(tree))}


def called(node: ast.AST) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def test_only_the_root_reads_settings_from_the_environment() -> None:
    assert where(lambda n: called(n) == "from_env") == {"adapters/wiring.py"}


def test_only_settings_touches_the_process_environment() -> None:
    def environment(node: ast.AST) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")) or (
            isinstance(node, ast.ImportFrom) and node.module == "os"
            and any(a.name in ("environ", "getenv") for a in node.names))

    assert where(environment) == {"adapters/settings.py"}


def test_only_the_root_constructs_services() -> None:
    assert where(lambda n: called(n) in SERVICES) == {"adapters/wiring.py"}


def test_the_root_hands_out_one_application_and_its_token_service() -> None:
    app = PetitionApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, org=small_chart(),
                              clock=ManualClock(T0))
    root = Root(Settings.from_env({"PETITION_SUPERVISION_INTERVAL": "7"}), app=app)
    assert root.app is app and root.tokens is root.tokens and root.tokens.app is app
    timer = root.supervision_timer(queue=None, refresh=lambda: None)  # type: ignore[arg-type]
    assert timer.app is app and timer.process.app is app and timer.interval == 7
    clock = ManualClock(T0)
    moved = root.with_clock(clock)
    assert moved.clock is clock and moved.settings is root.settings
