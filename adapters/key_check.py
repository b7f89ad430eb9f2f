"""Proves the keys against the store before the engine writes anything.

A process given another key would otherwise write events that every follower (views, verify,
relay) fails to decrypt, stopping them all behind the first such event. Decrypting the first
and the latest stored events shows that this process's keys open both ends of the log (after a
rotation they were written by different keys). The query-code key is compared with a record
(``petition_key_checks``) that the first start writes.
"""

from __future__ import annotations

import hashlib
import hmac

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresDatastore

from adapters.keys import KeyMismatch


def prove_cipher_key(app: Application, where: str) -> None:
    """Raises KeyMismatch unless every checked stored event decrypts with this process's keys."""
    cipher = app.mapper.cipher
    last = app.recorder.max_notification_id()
    if cipher is None or not last:
        return
    for notification in _ends(app, last):
        try:
            cipher.decrypt(notification.state)
        except ValueError as error:
            raise KeyMismatch(
                f"PETITION_CIPHER_KEY does not open the events stored in {where} (position "
                f"{notification.id}: {_reason(error)}); start with the key they were written "
                "with (an older one goes in PETITION_CIPHER_READ_KEYS); refusing to write"
            ) from None


def _ends(app: Application, last: int) -> list:
    first = app.recorder.select_notifications(start=None, limit=1)
    latest = app.recorder.select_notifications(start=last, limit=1)
    return [*first, *(n for n in latest if not first or n.id != first[0].id)]


def _reason(error: ValueError) -> str:
    return str(error).removeprefix("Invalid cipher tag: ") or "invalid cipher tag"


QUERY_CODE_CHECK = "query_code_key"
CHECKS_TABLE = "petition_key_checks"


def prove_query_code_key(app: Application, key: bytes, where: str) -> None:
    """The query-code key leaves nothing that can be decrypted, so the first start records an
    HMAC of a constant under it, and every later start compares: a process with another key
    would hash new query codes so that they could never be found with the right one."""
    digest = hmac.new(key, b"petition query code key check", hashlib.sha256).hexdigest()
    recorded = _recorded(app, QUERY_CODE_CHECK, digest)
    if recorded != digest:
        raise KeyMismatch(
            f"PETITION_QUERY_CODE_KEY is not the key the query codes in {where} were issued "
            "with; start with that key; refusing to write")


def _recorded(app: Application, name: str, digest: str) -> str:
    """The digest recorded under ``name``, recording ``digest`` if there is none yet."""
    datastore = app.recorder.datastore
    if isinstance(datastore, PostgresDatastore):
        table = f'"{datastore.schema}".{CHECKS_TABLE}'
        statements = (
            f"CREATE TABLE IF NOT EXISTS {table} (name text PRIMARY KEY, digest text NOT NULL)",
            f"INSERT INTO {table} VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
            f"SELECT digest FROM {table} WHERE name = %s")
    else:
        statements = (
            f"CREATE TABLE IF NOT EXISTS {CHECKS_TABLE} (name TEXT PRIMARY KEY, "
            "digest TEXT NOT NULL)",
            f"INSERT OR IGNORE INTO {CHECKS_TABLE} VALUES (?, ?)",
            f"SELECT digest FROM {CHECKS_TABLE} WHERE name = ?")
    create, insert, select = statements
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(create)
        cursor.execute(insert, (name, digest))
        cursor.execute(select, (name,))
        row = cursor.fetchone()
    return row["digest"]
