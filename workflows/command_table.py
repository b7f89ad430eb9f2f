"""The command table: one declaration per case command, from which everything else derives.

A declaration names the action (the lifecycle table's, the HTTP path's and `petition act`'s
word), the roles that may send it, the aggregate method it calls and the fields the server fills
in. ``ACTIONS``, the role matrix, the dispatch in ``decisions.decide``, the HTTP routes and bodies
and the CLI's ``act`` all read this table (cosmicpython's handlers mapping: one table from command
type to handler), so adding a command is an event, a rule and a fold in the domain plus one
``@declare`` on its command class.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

from domain.deadlines import DeadlinePolicy
from domain.petition import Petition
from domain.units import OrgChart
from workflows.roles import Role

SERVER_FIELDS = frozenset({"actor", "case_id"})
"""Fields of every case command that come from the caller and the path, never from a body."""
CONTEXT = ("org", "policy")
"""What the application hands an aggregate method that names it as a parameter."""
_GIVEN = frozenset({"at", "actor"})

C = TypeVar("C", bound=type[Any])


@dataclass(frozen=True)
class CommandSpec:
    action: str
    command: type[Any]  # a workflows.commands.CaseCommand subclass
    roles: frozenset[Role]
    method: Callable[..., None]  # the Petition method that decides it
    unit_from_caller: frozenset[str] = frozenset()  # body may omit: the caller's unit
    approver: str | None = None  # method parameter that records the actor as approver
    acting_agent: str | None = None  # the field naming a proxy agent: an intake caller must be it
    after: Callable[[Any, Any], None] | None = None  # (application, command) once decided
    # the file fields come from an uploaded file the server checked and stored, never from a
    # body: HTTP gives it a multipart route, and `petition act` refuses it
    upload: bool = False

    @cached_property
    def fields(self) -> tuple[str, ...]:
        """The command's own fields, passed to the aggregate method by name."""
        return tuple(n for n in self.command.model_fields if n not in SERVER_FIELDS | {"at"})

    @cached_property
    def context(self) -> tuple[str, ...]:
        """``org``/``policy``, if the method takes them (read once: commands are hot)."""
        return tuple(n for n in CONTEXT if n in inspect.signature(self.method).parameters)

    def apply(self, petition: Petition, cmd: Any, *, at: datetime, org: OrgChart,
              policy: DeadlinePolicy) -> None:
        """Calls the aggregate method with the command's fields and what the method asks for."""
        given = {"org": org, "policy": policy}
        kwargs = {name: getattr(cmd, name) for name in self.fields}
        kwargs.update({name: given[name] for name in self.context})
        if self.approver is not None:
            kwargs[self.approver] = cmd.actor
        self.method(petition, at=at, actor=cmd.actor, **kwargs)

    def check(self) -> None:
        """Refuses, at import, a declaration whose fields do not fit its aggregate method."""
        parameters = inspect.signature(self.method).parameters
        supplied = {*self.fields, *self.context, *_GIVEN, *filter(None, [self.approver])}
        unknown = supplied - parameters.keys()
        required = {n for n, p in parameters.items() if n != "self" and p.default is p.empty}
        missing = required - supplied
        if unknown or missing or not self.unit_from_caller <= set(self.fields) \
                or (self.acting_agent is not None and self.acting_agent not in self.fields):
            raise TypeError(f"declaration of '{self.action}' does not fit "
                            f"{self.method.__qualname__}: unknown {sorted(unknown)}, "
                            f"missing {sorted(missing)}")


class CommandTable:
    """Declarations by action, in declaration order (the order of routes and help texts)."""

    def __init__(self, specs: Iterable[CommandSpec] = ()) -> None:
        self._specs: dict[str, CommandSpec] = {}
        self._by_command: dict[type[Any], CommandSpec] = {}  # ``of``: every command asks
        for spec in specs:
            self.add(spec)

    def add(self, spec: CommandSpec) -> None:
        spec.check()
        if spec.action in self._specs or any(s.command is spec.command for s in self):
            raise ValueError(f"'{spec.action}' ({spec.command.__name__}) is declared twice")
        self._specs[spec.action] = spec
        self._by_command[spec.command] = spec

    def remove(self, action: str) -> None:
        del self._by_command[self._specs.pop(action).command]

    def declare(self, action: str, method: Callable[..., None], *, roles: Iterable[Role],
                unit_from_caller: Iterable[str] = (), approver: str | None = None,
                acting_agent: str | None = None,
                after: Callable[[Any, Any], None] | None = None,
                upload: bool = False) -> Callable[[C], C]:
        """Class decorator: declares the decorated command class under ``action``."""
        def declared(command: C) -> C:
            self.add(CommandSpec(action, command, frozenset(roles), method,
                                 frozenset(unit_from_caller), approver, acting_agent,
                                 after, upload))
            return command
        return declared

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(list(self._specs.values()))

    def __contains__(self, action: object) -> bool:
        return action in self._specs

    def __getitem__(self, action: str) -> CommandSpec:
        return self._specs[action]

    def of(self, command_type: type[Any]) -> CommandSpec:
        spec = self._by_command.get(command_type)
        if spec is not None:
            return spec
        raise TypeError(f"not a declared command: {command_type.__name__}")


class Derived(Mapping[str, Any]):
    """A read-only view of one attribute of every declaration, by action (always current),
    after any ``extra`` entries (e.g. ``register``, which is no case command)."""

    def __init__(self, table: CommandTable, attribute: str,
                 extra: Mapping[str, Any] | None = None) -> None:
        self._table, self._attribute, self._extra = table, attribute, dict(extra or {})

    def __getitem__(self, action: str) -> Any:
        if action in self._extra:
            return self._extra[action]
        return getattr(self._table[action], self._attribute)

    def __iter__(self) -> Iterator[str]:
        yield from self._extra
        yield from (spec.action for spec in self._table)

    def __len__(self) -> int:
        return len(self._extra) + len(list(self._table))


COMMANDS = CommandTable()
"""The application's declarations; ``workflows.commands`` fills it on import."""
declare = COMMANDS.declare
