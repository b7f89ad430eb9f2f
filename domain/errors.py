"""Domain errors: every rejected command raises one of these before any event exists."""

from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses; nothing is appended."""


class IllegalTransition(DomainError):
    """The command is not allowed in the case's current state."""

    def __init__(self, command: str, state: str, allowed: tuple[str, ...], detail: str = ""):
        self.command = command
        self.state = state
        self.allowed = allowed
        why = f": {detail}" if detail else ""
        super().__init__(
            f"cannot {command} a petition in state '{state}'{why}"
            f" (allowed now: {', '.join(allowed) or 'none'})"
        )


class InvalidCommand(DomainError):
    """The command's data breaks a business rule (bad unit, too long an extension …)."""


class UnknownUnit(InvalidCommand):
    """A unit id that the organisation chart does not contain."""

    def __init__(self, unit_id: str):
        self.unit_id = unit_id
        super().__init__(f"unknown unit '{unit_id}'")
