"""The roles a ``petition worker`` process can run, each made of single-leader parts.

A role is a name and a function from the composition root to its parts; a part is what one
leader lock guards (``adapters/leadership.py``): each view's runner, the supervision timer, the
relay. ``petition worker all`` runs every role that can run with this configuration. Another
package adds a role with ``register_role``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from projections.runner import READ_MODELS, catch_up, supervision_queue
from workflows.retrying import LoopHealth

if TYPE_CHECKING:
    from adapters.leadership import Running
    from adapters.wiring import Root


class RoleUnavailable(Exception):
    """The role cannot run with this build or configuration (CLI exit code 2)."""


@dataclass(frozen=True)
class Part:
    name: str  # also the leader lock's name: "views.case_view", "supervision", "relay"
    start: Callable[[], Running]


@dataclass(frozen=True)
class Role:
    name: str
    summary: str
    parts: Callable[[Root], list[Part]]  # raises RoleUnavailable when it cannot run here


@dataclass(frozen=True)
class Started:
    """A running part as the leader sees it: how to stop it, and its loops' health."""
    stop: Callable[[], None]
    loops: Callable[[], list[LoopHealth]]

    def health(self) -> list[LoopHealth]:
        return self.loops()


ROLES: dict[str, Role] = {}


def register_role(role: Role) -> None:
    ROLES[role.name] = role


def _views(root: Root) -> list[Part]:
    def start(name: str) -> Running:
        runner = root.projection_runner(names=[name]).start()
        return Started(runner.stop, lambda: list(runner.health.values()))
    return [Part(f"views.{name}", partial(start, name)) for name in READ_MODELS]


def _supervision(root: Root) -> list[Part]:
    if root.settings.supervision_interval <= 0:
        raise RoleUnavailable("supervision is off (PETITION_SUPERVISION_INTERVAL=0)")

    def start() -> Running:
        app, views = root.app, root.views
        timer = root.supervision_timer(  # the queue is caught up here, whoever follows it
            supervision_queue(views),
            refresh=lambda: catch_up(app, views, "supervision_queue")).start()
        return Started(timer.stop, lambda: [timer.health])
    return [Part("supervision", start)]


def _relay(root: Root) -> list[Part]:
    if not root.settings.kafka_bootstrap_servers:
        raise RoleUnavailable("the relay needs KAFKA_BOOTSTRAP_SERVERS")

    def start() -> Running:
        relay: Any = root.relay()
        relay.start()
        return Started(relay.close, lambda: [relay.health])
    return [Part("relay", start)]


def _inbound(root: Root) -> list[Part]:
    """The work-order consumer and its reply relay (docs/inbound.md). The consumer group
    would share partitions among instances anyway; under one leader it is simply one."""
    if not root.runs_inbound:
        raise RoleUnavailable("inbound needs KAFKA_BOOTSTRAP_SERVERS and PETITION_INBOUND_MAP")

    def start(make: Callable[[], Any]) -> Running:
        loop = make()
        loop.start()
        return Started(loop.close, lambda: [loop.health])
    return [Part("inbound", partial(start, root.inbound)),
            Part("inbound.replies", partial(start, root.inbound_replies))]


for _role in (
    Role("views", "every read model's runner, one leader per view", _views),
    Role("supervision", "the supervision timer (三函一约谈 ladder)", _supervision),
    Role("relay", "the Kafka relay of the event log", _relay),
    Role("inbound", "the inbound work-order consumer", _inbound),
):
    register_role(_role)
