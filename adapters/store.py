"""The eventsourcing library's configuration for SQLite (embedded) or PostgreSQL."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from adapters.settings import Settings

CIPHER_TOPIC = "adapters.cipher:KeyringCipher"


def store_env(settings: Settings, cipher_key: str, *, read_keys: tuple[str, ...] = (),
              key_dir: str | None = None) -> dict[str, str]:
    """``read_keys`` decrypt but never encrypt; ``key_dir`` is re-read for a rotated key."""
    env = {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": cipher_key, **cache_env(settings)}
    if read_keys:
        env["CIPHER_READ_KEYS"] = ",".join(read_keys)
    if key_dir:
        env["CIPHER_KEY_DIR"] = key_dir
    env.update(postgres_env(settings) if settings.is_postgres else sqlite_env(settings))
    return env


def cache_env(settings: Settings) -> dict[str, str]:
    """The library's aggregate cache: a command decides on its case as cached, and the save's
    version key refuses a decision that missed another process's write (the command is then
    decided again on the stored case: ``PetitionApplication.execute``); reads bring a cached
    case up to date with the events recorded since (fast-forward)."""
    if settings.aggregate_cache <= 0:
        return {}
    return {"AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache),
            "AGGREGATE_CACHE_FASTFORWARD": "y"}


def sqlite_env(settings: Settings) -> dict[str, str]:
    return {
        # the library's SQLite, with write transactions that take the lock first
        "PERSISTENCE_MODULE": "adapters.persistence.sqlite:SQLiteFactory",
        "SQLITE_DBNAME": settings.store,
        "SQLITE_LOCK_TIMEOUT": str(max(1, round(settings.store_timeout))),  # another writer
    }


def postgres_env(settings: Settings) -> dict[str, str]:
    url = urlsplit(settings.store)
    env = {
        "PERSISTENCE_MODULE": "adapters.persistence.postgres:GuardedPostgresFactory",  # fails fast
        "POSTGRES_DBNAME": unquote(url.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": url.hostname or "localhost",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": str(max(1, round(settings.store_timeout))),  # pool wait
        "STORE_TIMEOUT": str(settings.store_timeout),
        "STORE_STATEMENT_TIMEOUT": str(settings.statement_timeout),
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_LOCK_TIMEOUT": "5",
    }
    if settings.postgres_schema:
        env["POSTGRES_SCHEMA"] = settings.postgres_schema
    return env


def ensure_postgres_schema(url: str, schema: str) -> None:
    """Creates the configured schema if it is missing (the library expects it to exist)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
