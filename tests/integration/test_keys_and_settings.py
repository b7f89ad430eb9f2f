"""Configuration from the environment, and where the secret keys come from.

The embedded default must start with nothing configured (generating private key files once
and reusing them), while PostgreSQL deployments must be given their keys explicitly. These
tests build real applications from Settings, as the CLI and the server do.
"""

from __future__ import annotations

import base64
import stat
import uuid
from pathlib import Path

import pytest

from adapters.keys import MissingKey
from adapters.settings import DEFAULT_STORE, Settings
from adapters.store import CIPHER_TOPIC, store_env
from adapters.wiring import build_application
from tests.conftest import PG_URL, require_postgres
from tests.integration.helpers import dump_store, register_sample


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _key() -> str:
    return base64.b64encode(b"k" * 32).decode()


# ---------------------------------------------------------------------- embedded key files
def test_embedded_default_generates_private_keys_and_reuses_them(tmp_path, clock):
    settings = Settings.from_env({"PETITION_STORE": str(tmp_path / "store" / "petitions.db")})
    assert settings.data_dir == tmp_path / "store"
    keys = tmp_path / "store" / "keys"
    assert not keys.exists()

    first = build_application(settings, clock=clock)
    try:
        registration = register_sample(first)
    finally:
        first.close()

    cipher, code = keys / "cipher.key", keys / "query_code.key"
    assert _mode(cipher) == 0o600
    assert _mode(code) == 0o600
    assert _mode(keys) == 0o700
    generated = {p: p.read_bytes() for p in (cipher, code)}
    for content in generated.values():
        assert len(base64.b64decode(content.strip(), validate=True)) == 32
    assert generated[cipher] != generated[code]

    second = build_application(settings, clock=clock)
    try:
        petition = second.get_petition(registration.case_id)
        assert petition.petitioner.name == "王小明"
        assert second.case_id_for_query_code(registration.query_code) == registration.case_id
    finally:
        second.close()
    assert {p: p.read_bytes() for p in (cipher, code)} == generated


def test_keys_from_the_environment_win_over_files_and_create_none(tmp_path, clock):
    settings = Settings.from_env({
        "PETITION_STORE": str(tmp_path / "petitions.db"),
        "PETITION_CIPHER_KEY": _key(),
        "PETITION_QUERY_CODE_KEY": _key(),
    })
    app = build_application(settings, clock=clock)
    app.close()
    assert not (tmp_path / "keys").exists()


def test_a_damaged_key_file_is_refused_not_replaced(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "cipher.key").write_text("not base64 at all!\n")
    settings = Settings.from_env({"PETITION_STORE": str(tmp_path / "petitions.db")})
    with pytest.raises(MissingKey, match="PETITION_CIPHER_KEY is not valid base64"):
        build_application(settings)
    assert (keys / "cipher.key").read_text() == "not base64 at all!\n"


@pytest.mark.parametrize("raw_length", [8, 31])
def test_a_key_of_the_wrong_size_is_refused(tmp_path, raw_length):
    settings = Settings.from_env({
        "PETITION_STORE": str(tmp_path / "petitions.db"),
        "PETITION_CIPHER_KEY": base64.b64encode(b"x" * raw_length).decode(),
    })
    with pytest.raises(MissingKey, match="16, 24 or 32 bytes"):
        build_application(settings)


def test_store_path_with_tilde_is_expanded_like_the_data_dir(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"PETITION_STORE": "~/petitions/p.db"})
    assert settings.data_dir == tmp_path / "home" / "petitions"
    app = build_application(settings, clock=clock)
    try:
        register_sample(app)
    finally:
        app.close()
    assert (tmp_path / "home" / "petitions" / "p.db").is_file()
    assert not (tmp_path / "~").exists()


# ---------------------------------------------------------------------- PostgreSQL keys
def test_postgres_without_cipher_key_raises_missing_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default ./data must hold no key file either
    settings = Settings.from_env({"PETITION_STORE": PG_URL, "PETITION_QUERY_CODE_KEY": _key()})
    with pytest.raises(MissingKey) as raised:
        build_application(settings)
    message = str(raised.value)
    assert "PETITION_CIPHER_KEY" in message
    assert "PostgreSQL" in message
    assert not (tmp_path / "data").exists()  # nothing generated on this container's disk


def test_postgres_without_query_code_key_raises_missing_key(tmp_path):
    settings = Settings.from_env({
        "PETITION_STORE": PG_URL,
        "PETITION_DATA_DIR": str(tmp_path / "data"),
        "PETITION_CIPHER_KEY": _key(),
    })
    with pytest.raises(MissingKey, match="PETITION_QUERY_CODE_KEY"):
        build_application(settings)
    assert not (tmp_path / "data").exists()


# ---------------------------------------------------------------------- Settings.from_env
def test_from_env_defaults():
    settings = Settings.from_env({})
    assert settings.store == DEFAULT_STORE == "./data/petitions.db"
    assert settings.data_dir == Path("data")
    assert not settings.is_postgres
    assert settings.units_file is None and settings.policy_file is None
    assert settings.cipher_key is None and settings.query_code_key is None
    assert settings.postgres_schema is None
    assert settings.log_format == "auto"


def test_from_env_puts_the_data_dir_next_to_the_database_file(tmp_path):
    settings = Settings.from_env({"PETITION_STORE": str(tmp_path / "a" / "b" / "cases.db")})
    assert settings.data_dir == tmp_path / "a" / "b"
    explicit = Settings.from_env({"PETITION_STORE": str(tmp_path / "cases.db"),
                                  "PETITION_DATA_DIR": str(tmp_path / "elsewhere")})
    assert explicit.data_dir == tmp_path / "elsewhere"


@pytest.mark.parametrize("url", ["postgresql://h/db", "postgres://h/db"])
def test_from_env_for_postgres(url):
    settings = Settings.from_env({"PETITION_STORE": url, "PETITION_POSTGRES_SCHEMA": "tenant"})
    assert settings.is_postgres
    assert settings.data_dir == Path("data")
    assert settings.postgres_schema == "tenant"


def test_empty_values_count_as_unset():
    settings = Settings.from_env({"PETITION_STORE": "", "PETITION_CIPHER_KEY": "",
                                  "PETITION_POSTGRES_SCHEMA": ""})
    assert settings.store == DEFAULT_STORE
    assert settings.cipher_key is None
    assert settings.postgres_schema is None


# ---------------------------------------------------------------------- store_env
def test_store_env_parses_a_full_postgres_url():
    settings = Settings.from_env({
        "PETITION_STORE": "postgresql://alice:p%40ss%3Aword@db.example.org:6543/petitions_prod"
                          "?schema=tenant_a",
    })
    env = store_env(settings, "KEY")
    assert env["PERSISTENCE_MODULE"] == "adapters.persistence.postgres:GuardedPostgresFactory"
    assert env["POSTGRES_HOST"] == "db.example.org"
    assert env["POSTGRES_PORT"] == "6543"
    assert env["POSTGRES_USER"] == "alice"
    assert env["POSTGRES_PASSWORD"] == "p@ss:word"
    assert env["POSTGRES_DBNAME"] == "petitions_prod"
    assert env["POSTGRES_SCHEMA"] == "tenant_a"
    assert env["CIPHER_TOPIC"] == CIPHER_TOPIC
    assert env["CIPHER_KEY"] == "KEY"
    assert "SQLITE_DBNAME" not in env


def test_store_env_postgres_defaults_and_explicit_schema_wins():
    bare = store_env(Settings.from_env({"PETITION_STORE": "postgresql://dbhost"}), "K")
    assert (bare["POSTGRES_HOST"], bare["POSTGRES_PORT"]) == ("dbhost", "5432")
    assert (bare["POSTGRES_USER"], bare["POSTGRES_PASSWORD"]) == ("postgres", "")
    assert bare["POSTGRES_DBNAME"] == "postgres"
    assert "POSTGRES_SCHEMA" not in bare

    both = store_env(Settings.from_env({"PETITION_STORE": "postgresql://h/db?schema=from_url",
                                        "PETITION_POSTGRES_SCHEMA": "from_env"}), "K")
    assert both["POSTGRES_SCHEMA"] == "from_env"


def test_store_env_for_sqlite(tmp_path):
    env = store_env(Settings.from_env({"PETITION_STORE": str(tmp_path / "x.db")}), "K")
    # the library's SQLite, with write transactions that take the lock first
    assert env["PERSISTENCE_MODULE"] == "adapters.persistence.sqlite:SQLiteFactory"
    assert env["SQLITE_DBNAME"] == str(tmp_path / "x.db")
    assert not any(name.startswith("POSTGRES_") for name in env)


# ---------------------------------------------------------------------- ?schema= end to end
@pytest.fixture
def unused_schema():
    """A schema name that does not exist yet; dropped afterwards if anything created it."""
    require_postgres()
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _pg_settings(tmp_path, store, **extra):
    return Settings.from_env({"PETITION_STORE": store, "PETITION_CIPHER_KEY": _key(),
                              "PETITION_QUERY_CODE_KEY": _key(),
                              "PETITION_DATA_DIR": str(tmp_path), **extra})


def test_schema_in_the_url_is_where_events_go(tmp_path, pg_schema, clock):
    settings = _pg_settings(tmp_path, f"{PG_URL}?schema={pg_schema}")
    app = build_application(settings, clock=clock)
    try:
        case_id = register_sample(app).case_id
    finally:
        app.close()
    tables = dict(dump_store(settings))  # dump_store reads the schema from the URL too
    rows = tables["petitions_events"]  # (and petitions_snapshots: snapshotting is enabled)
    assert case_id in [row[0] for row in rows]


def test_schema_in_url_and_environment_together(tmp_path, unused_schema, clock):
    settings = _pg_settings(tmp_path, f"{PG_URL}?schema={unused_schema}",
                            PETITION_POSTGRES_SCHEMA=unused_schema)
    build_application(settings, clock=clock).close()


def test_missing_schema_from_the_url_is_created(tmp_path, unused_schema, clock):
    settings = _pg_settings(tmp_path, f"{PG_URL}?schema={unused_schema}")
    build_application(settings, clock=clock).close()


def test_the_aggregate_cache_is_on_by_default_and_can_be_turned_off(tmp_path, clock):
    base = {"PETITION_STORE": str(tmp_path / "p.db")}
    default = Settings.from_env(base)
    assert default.aggregate_cache == 1000
    assert store_env(default, "k")["AGGREGATE_CACHE_MAXSIZE"] == "1000"
    assert store_env(default, "k")["AGGREGATE_CACHE_FASTFORWARD"] == "y"
    off = Settings.from_env({**base, "PETITION_AGGREGATE_CACHE": "0"})
    assert "AGGREGATE_CACHE_MAXSIZE" not in store_env(off, "k")
    application = build_application(off, clock=clock)
    try:
        assert not application.repository.cache
        case_id = register_sample(application).case_id
        assert application.get_petition(case_id).version == 1
    finally:
        application.close()
    with pytest.raises(ValueError, match="PETITION_AGGREGATE_CACHE must be at least 0"):
        Settings.from_env({**base, "PETITION_AGGREGATE_CACHE": "-1"})
