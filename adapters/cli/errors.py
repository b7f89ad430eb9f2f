"""Maps failures to one line on stderr and an exit code (documented in docs/operations.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import structlog
from pydantic import ValidationError

from adapters.keys import MissingKey
from domain.errors import DomainError, IllegalTransition, InvalidCommand
from workflows.errors import CaseNotFound, ConcurrentModification, QueryCodeNotFound

EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (CaseNotFound, 4),
    (QueryCodeNotFound, 4),
    (IllegalTransition, 5),
    (ConcurrentModification, 6),
    (InvalidCommand, 3),
    (DomainError, 3),
    (MissingKey, 7),
)


def exit_code_for(error: BaseException) -> int | None:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return None


def run_guarded(app: Callable[..., object]) -> None:
    try:
        app(standalone_mode=True)
    except Exception as error:  # noqa: BLE001 - the one place errors become exit codes
        if isinstance(error, ValidationError):
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "input"
            print(f"petition: invalid {where}: {first['msg']}", file=sys.stderr)
            sys.exit(2)
        code = exit_code_for(error)
        if code is None:
            structlog.get_logger().exception("unexpected error")
            print(f"petition: internal error: {type(error).__name__}", file=sys.stderr)
            sys.exit(1)
        print(f"petition: {error}", file=sys.stderr)
        sys.exit(code)
