"""Everything read from the environment, in one place (see docs/operations.md)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

DEFAULT_STORE = "./data/petitions.db"
DEFAULT_KAFKA_TOPIC = "petition.events"
DEFAULT_INBOUND_TOPIC = "petition.inbound"
FORM_FIELDS_BYTES = 256 * 1024  # a citizens' form without files
PART_OVERHEAD_BYTES = 4096  # a multipart part's boundary and headers, generously


@dataclass(frozen=True)
class Settings:
    store: str
    data_dir: Path
    units_file: Path | None
    policy_file: Path | None
    cipher_key: str | None
    query_code_key: str | None
    postgres_schema: str | None
    log_format: str
    supervision_interval: float = 60.0
    kafka_bootstrap_servers: str | None = None
    kafka_topic: str = DEFAULT_KAFKA_TOPIC
    kafka_partitions: int = 6
    kafka_replication: int = 1
    aggregate_cache: int = 1000
    group_commit: bool = False  # concurrent saves share transactions (persistence/group_commit.py)
    group_commit_window_ms: float = 0.0
    store_timeout: float = 10.0  # seconds to connect to / wait for the store (then 503)
    statement_timeout: float = 60.0  # seconds one PostgreSQL statement may run
    cipher_read_keys: tuple[str, ...] = ()  # keys that decrypt only (retired, or the next one)
    integrity_check_seconds: float = 5.0  # SQLite quick_check at start-up; 0 turns it off
    integrity_recheck_seconds: float = 60.0  # … again for /readyz, at most this often; 0: never
    max_body_bytes: int = 1 << 20
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For is believed
    notifier: str = "outbox"  # citizens' texts: the outbox table or module:factory
    index_file: Path | None = None  # the service index's formula (TOML); None: the packaged one
    inbound_map: Path | None = None  # external work orders' map (TOML); None: no inbound consumer
    inbound_topic: str = DEFAULT_INBOUND_TOPIC  # where 12345 / 一网通办 orders arrive
    inbound_group: str = "petition-inbound"  # the consumer group reading it

    @property
    def inbound_dead_letter_topic(self) -> str:
        """Orders that cannot be registered, with the reason (never block the partition)."""
        return f"{self.inbound_topic}.dead-letter"

    blob_store: str = "folder"  # attachments' bytes: folder, s3, or module:factory
    blob_dir: Path | None = None  # the folder's place; None: <data_dir>/blobs
    blob_s3_bucket: str | None = None  # PETITION_BLOB_STORE=s3: the bucket (required)
    blob_s3_endpoint: str | None = None  # None: AWS itself; else MinIO, Ceph, OSS … URL
    blob_s3_region: str = "us-east-1"
    blob_s3_prefix: str = "blobs/"  # the keys' folder inside the bucket
    # None: boto3's own chain (instance role, profile); never printed (repr=False)
    blob_s3_access_key_id: str | None = field(default=None, repr=False)
    blob_s3_secret_access_key: str | None = field(default=None, repr=False)
    attachment_max_bytes: int = 5 << 20  # one attachment of the citizens' filing form
    attachment_max_count: int = 5  # attachments per petition; 0 turns uploads off

    @property
    def blob_folder(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"

    @property
    def filing_form_bytes(self) -> int:
        """The body limit of the filing form: its text fields plus every attachment at most."""
        return FORM_FIELDS_BYTES + self.attachment_max_count * (self.attachment_max_bytes
                                                                + PART_OVERHEAD_BYTES)

    @property
    def upload_form_bytes(self) -> int:
        """The body limit of a route that carries one file (add-attachment, attach-document)."""
        return FORM_FIELDS_BYTES + self.attachment_max_bytes + PART_OVERHEAD_BYTES

    @property
    def is_postgres(self) -> bool:
        return self.store.startswith(("postgresql://", "postgres://"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        store = env.get("PETITION_STORE") or DEFAULT_STORE
        is_pg = store.startswith(("postgresql://", "postgres://"))
        store = store if is_pg else os.path.expanduser(store)  # as data_dir below is
        default_dir = "./data" if is_pg else str(Path(store).expanduser().parent)
        schema = env.get("PETITION_POSTGRES_SCHEMA") or None
        if is_pg:  # a ?schema= in the URL is ours, not libpq's: move it into the settings
            url = urlsplit(store)
            schema = schema or (parse_qs(url.query).get("schema") or [None])[0]
            store = urlunsplit(url._replace(query=""))
        return cls(
            store=store,
            data_dir=Path(env.get("PETITION_DATA_DIR") or default_dir).expanduser(),
            units_file=_path(env.get("PETITION_UNITS_FILE")),
            policy_file=_path(env.get("PETITION_POLICY_FILE")),
            cipher_key=env.get("PETITION_CIPHER_KEY") or None,
            query_code_key=env.get("PETITION_QUERY_CODE_KEY") or None,
            postgres_schema=schema,
            log_format=env.get("PETITION_LOG_FORMAT", "auto"),
            supervision_interval=_seconds_or_off(env, "PETITION_SUPERVISION_INTERVAL", 60.0),
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            kafka_topic=env.get("PETITION_KAFKA_TOPIC") or DEFAULT_KAFKA_TOPIC,
            kafka_partitions=_positive(env, "PETITION_KAFKA_PARTITIONS", 6),
            kafka_replication=_positive(env, "PETITION_KAFKA_REPLICATION", 1),
            aggregate_cache=_whole(env, "PETITION_AGGREGATE_CACHE", 1000),
            group_commit=_flag(env.get("PETITION_GROUP_COMMIT")),
            group_commit_window_ms=_milliseconds(env, "PETITION_GROUP_COMMIT_WINDOW_MS"),
            store_timeout=_seconds(env, "PETITION_STORE_TIMEOUT", 10.0),
            statement_timeout=_seconds(env, "PETITION_STATEMENT_TIMEOUT", 60.0),
            cipher_read_keys=tuple(
                (env.get("PETITION_CIPHER_READ_KEYS") or "").replace(",", " ").split()),
            integrity_check_seconds=_seconds_or_off(env, "PETITION_INTEGRITY_CHECK_SECONDS",
                                                   5.0),
            integrity_recheck_seconds=_seconds_or_off(
                env, "PETITION_INTEGRITY_RECHECK_SECONDS", 60.0),
            max_body_bytes=_positive(env, "PETITION_MAX_BODY_BYTES", 1 << 20),
            trusted_proxies=_list(env.get("PETITION_TRUSTED_PROXIES")),
            notifier=_notifier(env.get("PETITION_NOTIFIER")),
            index_file=_path(env.get("PETITION_INDEX_FILE")),
            inbound_map=_path(env.get("PETITION_INBOUND_MAP")),
            inbound_topic=env.get("PETITION_INBOUND_TOPIC") or DEFAULT_INBOUND_TOPIC,
            inbound_group=env.get("PETITION_INBOUND_GROUP") or "petition-inbound",
            blob_store=_blob_store(env),
            blob_dir=_path(env.get("PETITION_BLOB_DIR")),
            blob_s3_bucket=env.get("PETITION_BLOB_S3_BUCKET") or None,
            blob_s3_endpoint=env.get("PETITION_BLOB_S3_ENDPOINT") or None,
            blob_s3_region=env.get("PETITION_BLOB_S3_REGION") or "us-east-1",
            blob_s3_prefix=env.get("PETITION_BLOB_S3_PREFIX", "blobs/"),
            blob_s3_access_key_id=env.get("PETITION_BLOB_S3_ACCESS_KEY_ID") or None,
            blob_s3_secret_access_key=env.get("PETITION_BLOB_S3_SECRET_ACCESS_KEY") or None,
            attachment_max_bytes=_positive(env, "PETITION_ATTACHMENT_MAX_BYTES", 5 << 20),
            attachment_max_count=_whole(env, "PETITION_ATTACHMENT_MAX_COUNT", 5),
        )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "y", "yes", "true", "on")


def _milliseconds(env: Mapping[str, str], name: str) -> float:
    raw = env.get(name)
    try:
        value = float(raw or 0)
    except ValueError:
        raise InvalidSetting(f"{name} must be a number of milliseconds, got {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise InvalidSetting(f"{name} must be at least 0, got {raw!r}")
    return value


class InvalidSetting(ValueError):
    """An environment variable with a value the engine cannot use (CLI exit code 2)."""


def _seconds_or_off(env: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds where 0 means "off"."""
    return _seconds(env, name, default, off_allowed=True)


def _notifier(value: str | None) -> str:
    return _plugin(value, "outbox", "PETITION_NOTIFIER")


def _blob_store(env: Mapping[str, str]) -> str:
    """``folder``, ``s3`` (with its bucket named), or module:factory."""
    value = (env.get("PETITION_BLOB_STORE") or "folder").strip()
    if value == "s3":
        if not env.get("PETITION_BLOB_S3_BUCKET"):
            raise InvalidSetting("PETITION_BLOB_STORE=s3 needs PETITION_BLOB_S3_BUCKET")
        return value
    return _plugin(value, "folder", "PETITION_BLOB_STORE")


def _plugin(value: str | None, embedded: str, name: str) -> str:
    """The embedded implementation's name, or module:factory of another one."""
    value = (value or embedded).strip()
    if value != embedded and not re.fullmatch(r"[\w.]+:\w+", value):
        raise InvalidSetting(f"{name} must be '{embedded}' or module:factory, got {value!r}")
    return value


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def _seconds(env: Mapping[str, str], name: str, default: float, *,
             off_allowed: bool = False) -> float:
    """A positive number of seconds (or 0, where ``off_allowed``)."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidSetting(f"{name} must be a number of seconds, got {raw!r}") from None
    if off_allowed and not value >= 0:
        raise InvalidSetting(f"{name} must be 0 or more, got {raw!r}")
    if not off_allowed and not value > 0:
        raise InvalidSetting(f"{name} must be more than 0, got {raw!r}")
    return value


def _list(value: str | None) -> tuple[str, ...]:
    """A comma-separated list (addresses or networks), blanks dropped."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number, 0 allowed (e.g. to turn a cache off)."""
    return _positive(env, name, default, minimum=0)


def _positive(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidSetting(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise InvalidSetting(f"{name} must be at least {minimum}, got {value}")
    return value
