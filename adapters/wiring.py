"""Builds the application from Settings: the one place where everything is put together.

Start-up refuses, before anything is written, a store it cannot use safely: a damaged SQLite
file, missing keys beside a store that already holds events, or keys that do not open the
stored events. On PostgreSQL the schema's tables are created under an advisory lock, so
processes starting together on a fresh schema do not race.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from eventsourcing.persistence import ApplicationRecorder

from adapters.holidays.stored_arrangement import use_stored_arrangement
from adapters.key_check import prove_cipher_key, prove_query_code_key
from adapters.keys import CIPHER_FILE, QUERY_CODE_FILE, key_from, read_keys, retired_keys
from adapters.org_file import load_org_chart
from adapters.persistence.group_commit import GroupCommitRecorder
from adapters.policy_file import load_business_time, load_ladder, load_policy
from adapters.schema_lock import schema_creation_lock
from adapters.settings import Settings
from adapters.sqlite_file import check_integrity, create_private, holds_events
from adapters.store import ensure_postgres_schema, store_env
from workflows.application import PetitionApplication
from workflows.clock import Clock
from workflows.query_codes import QueryCodes


def build_application(settings: Settings | None = None, *, clock: Clock | None = None,
                      check_integrity_first: bool = True) -> PetitionApplication:
    settings = settings or Settings.from_env()
    if not settings.is_postgres:
        _prepare_sqlite_file(settings, check=check_integrity_first)
    keys = settings.data_dir / "keys"
    cipher_key = _key(settings, settings.cipher_key, keys / CIPHER_FILE, "PETITION_CIPHER_KEY")
    code_key = _key(settings, settings.query_code_key, keys / QUERY_CODE_FILE,
                    "PETITION_QUERY_CODE_KEY")
    from_files = settings.cipher_key is None
    read_only = read_keys(" ".join(settings.cipher_read_keys), "PETITION_CIPHER_READ_KEYS")
    env = store_env(settings, cipher_key,
                    read_keys=read_only + (retired_keys(keys) if from_files else ()),
                    key_dir=str(keys.resolve()) if from_files else None)
    with _tables_created_alone(settings):
        application = PetitionApplication(
            env,
            org=load_org_chart(settings.units_file),
            policy=load_policy(settings.policy_file),
            ladder=load_ladder(settings.policy_file),
            business_time=load_business_time(settings.policy_file),
            query_codes=QueryCodes(base64.b64decode(code_key)),
            clock=clock,
            wrap_writes=_group_commit(settings),
        )
        try:
            prove_cipher_key(application, where(settings))
            prove_query_code_key(application, base64.b64decode(code_key), where(settings))
        except BaseException:
            application.close()
            raise
    try:
        application.use_stored_units()  # a chart loaded with `petition units load` wins
        use_stored_arrangement(application)  # holidays imported with `petition calendar import`
    except BaseException:
        application.close()
        raise
    return application


def _group_commit(settings: Settings
                  ) -> Callable[[ApplicationRecorder], ApplicationRecorder] | None:
    """With PETITION_GROUP_COMMIT=1 concurrent saves share transactions (see the module)."""
    if not settings.group_commit:
        return None
    window = settings.group_commit_window_ms / 1000
    return lambda recorder: GroupCommitRecorder(recorder, window=window)  # type: ignore[return-value]


def _prepare_sqlite_file(settings: Settings, *, check: bool) -> None:
    path = Path(settings.store)
    for folder in (settings.data_dir, path.parent):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if check:
        check_integrity(path, settings.integrity_check_seconds)
    create_private(path)


def _key(settings: Settings, given: str | None, path: Path, name: str) -> str:
    """The environment's key, else the file's; a new file only for a SQLite store without
    events (a new key beside events some other key wrote would write unreadable events)."""
    if given or settings.is_postgres or not holds_events(Path(settings.store)):
        return key_from(given, path, may_create=not settings.is_postgres, name=name)
    return key_from(None, path, may_create=False, name=name, why_not=(
        f"{path} is missing but {settings.store} already holds events; restore the keys/ "
        f"folder saved with this file (or set {name}): a new key would not open them"))


@contextmanager
def _tables_created_alone(settings: Settings) -> Iterator[None]:
    """PostgreSQL: the schema and the library's tables are created under one advisory lock."""
    if not settings.is_postgres:
        yield
        return
    with schema_creation_lock(settings.store, settings.postgres_schema):
        if settings.postgres_schema:
            ensure_postgres_schema(settings.store, settings.postgres_schema)
        yield


def where(settings: Settings) -> str:
    """The store, named for messages (never with a password)."""
    if settings.is_postgres:
        return f"PostgreSQL schema {settings.postgres_schema or 'public'}"
    return settings.store
