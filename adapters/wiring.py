"""Builds the application from Settings: the one place where everything is put together."""

from __future__ import annotations

import base64
from collections.abc import Callable

from eventsourcing.persistence import ApplicationRecorder

from adapters.holidays.stored_arrangement import use_stored_arrangement
from adapters.keys import key_from
from adapters.org_file import load_org_chart
from adapters.persistence.group_commit import GroupCommitRecorder
from adapters.policy_file import load_business_time, load_ladder, load_policy
from adapters.settings import Settings
from adapters.store import ensure_postgres_schema, store_env
from workflows.application import PetitionApplication
from workflows.clock import Clock
from workflows.query_codes import QueryCodes


def build_application(settings: Settings | None = None, *, clock: Clock | None = None) -> PetitionApplication:
    settings = settings or Settings.from_env()
    may_create = not settings.is_postgres
    if settings.is_postgres and settings.postgres_schema:
        ensure_postgres_schema(settings.store, settings.postgres_schema)
    if may_create:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    keys = settings.data_dir / "keys"
    cipher_key = key_from(settings.cipher_key, keys / "cipher.key", may_create=may_create,
                          name="PETITION_CIPHER_KEY")
    code_key = key_from(settings.query_code_key, keys / "query_code.key",
                        may_create=may_create, name="PETITION_QUERY_CODE_KEY")
    application = PetitionApplication(
        store_env(settings, cipher_key),
        org=load_org_chart(settings.units_file),
        policy=load_policy(settings.policy_file),
        ladder=load_ladder(settings.policy_file),
        business_time=load_business_time(settings.policy_file),
        query_codes=QueryCodes(base64.b64decode(code_key)),
        clock=clock,
        wrap_writes=_group_commit(settings),
    )
    application.use_stored_units()  # a chart loaded with `petition units load` wins
    use_stored_arrangement(application)  # holidays imported with `petition calendar import`
    return application


def _group_commit(settings: Settings
                  ) -> Callable[[ApplicationRecorder], ApplicationRecorder] | None:
    """With PETITION_GROUP_COMMIT=1 concurrent saves share transactions (see the module)."""
    if not settings.group_commit:
        return None
    window = settings.group_commit_window_ms / 1000
    return lambda recorder: GroupCommitRecorder(recorder, window=window)  # type: ignore[return-value]
