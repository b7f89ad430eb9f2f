"""The CLI's one error boundary: every failure becomes one line on stderr and an exit code.

Every command runs inside ``run_guarded``, so no command needs its own handling and none can
print a traceback on stdout (where ``--json`` output goes). The codes are documented in
docs/operations.md; 6 means "retry", whatever the cause.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator

import structlog
import typer
from eventsourcing.persistence import (
    DatabaseError,
    InternalError,
    OperationalError,
)
from pydantic import ValidationError

from adapters.blobs.port import BlobUnavailable
from adapters.cli.root import root
from adapters.keys import MissingKey
from adapters.logging import configure_logging
from adapters.settings import InvalidSetting
from adapters.sqlite_file import StoreDamaged, damaged, is_damage
from domain.errors import DomainError, IllegalTransition, InvalidCommand
from workflows.errors import CaseNotFound, ConcurrentModification, QueryCodeNotFound

try:  # Typer 0.2x carries its own copy of Click; older ones use Click itself
    from typer._click import exceptions as click
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click import exceptions as click  # type: ignore[no-redef]

INTERNAL, INVALID, RETRY, KEY, DAMAGED = 1, 2, 6, 7, 9

EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (CaseNotFound, 4),
    (QueryCodeNotFound, 4),
    (IllegalTransition, 5),
    (ConcurrentModification, RETRY),
    (InvalidCommand, 3),
    (DomainError, 3),
    (MissingKey, KEY),
    (StoreDamaged, DAMAGED),
    (InvalidSetting, INVALID),
    (BlobUnavailable, RETRY),
)


def exit_code_for(error: BaseException) -> int | None:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return None


def run_guarded(app: Callable[..., object], args: list[str] | None = None) -> None:
    """Runs a Typer app; exits with the command's code, or the code of what went wrong."""
    root.cache_clear()  # one composition root per invocation (tests run several in a process)
    configure_logging(_log_format())  # logs go to stderr even for commands that log nothing
    try:
        code = app(args=args, standalone_mode=False)
    except click.NoArgsIsHelpError as error:
        error.show()
        sys.exit(INVALID)
    except click.ClickException as error:  # usage errors: one line, not a boxed panel
        sys.exit(_fail(error.exit_code, _usage(error)))
    except typer.Abort:
        sys.exit(_fail(INTERNAL, "aborted"))
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing left to tell
        sys.exit(INTERNAL)
    except Exception as error:  # noqa: BLE001 - the one place errors become exit codes
        sys.exit(_fail(*describe(error)))
    sys.exit(code if isinstance(code, int) else 0)


def describe(error: BaseException) -> tuple[int, str]:
    """The exit code and the one-line message for a failure."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "input"
        return INVALID, f"invalid {where}: {first['msg']}"
    code = exit_code_for(error)
    if code is not None:
        return code, str(error)
    store = _store_failure(error)
    if store is not None:
        return store
    structlog.get_logger().error("unexpected error", exc_info=error)
    return INTERNAL, f"internal error: {type(error).__name__}"


def _store_failure(error: BaseException) -> tuple[int, str] | None:
    """Database failures by what the operator can do about them: repair, fix keys, or retry."""
    for cause in _chain(error):
        text = str(cause)
        if isinstance(cause, sqlite3.DatabaseError | DatabaseError) and is_damage(cause):
            return DAMAGED, str(damaged(_store_name(), _line(text)))
        if "Invalid cipher tag" in text:
            return KEY, (f"a stored event does not decrypt with this process's keys "
                         f"({_line(text)}); set PETITION_CIPHER_KEY (and "
                         "PETITION_CIPHER_READ_KEYS) to the keys the events were written with")
        if _is_transient(cause):
            return RETRY, f"the store is unreachable or busy ({_line(text)}); retry"
    return None


def _is_transient(error: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        psycopg = None  # type: ignore[assignment]
    if psycopg is not None and isinstance(error, psycopg.OperationalError):
        return True
    if isinstance(error, OperationalError | sqlite3.OperationalError):
        return True
    return isinstance(error, InternalError) and "concurrently" in str(error)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _usage(error: click.ClickException) -> str:
    message = _line(error.format_message())
    ctx = getattr(error, "ctx", None)
    if isinstance(error, click.UsageError) and ctx is not None:
        return f"{message} (see `{ctx.command_path} --help`)"
    return message


def _fail(code: int, message: str) -> int:
    print(f"petition: {_line(message)}", file=sys.stderr)
    return code


def _line(text: str) -> str:
    return " ".join(text.split())


def _log_format() -> str:
    try:
        return root().settings.log_format
    except ValueError:
        return "auto"


def _store_name() -> str:
    try:
        return root().settings.store
    except ValueError:
        return "(PETITION_STORE)"
