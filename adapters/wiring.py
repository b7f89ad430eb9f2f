"""The composition root: builds every service of a process from ``Settings``, once.

``Root.from_environment()`` is the one place that reads the environment; the CLI, the HTTP app
and the simulation receive a ``Root`` (or what it built) instead of wiring anything themselves.
Services are built when first asked for, so `petition subscribe` never opens the store.

Start-up refuses, before anything is written, a store it cannot use safely: a damaged SQLite
file, missing keys beside a store that already holds events, or keys that do not open the
stored events. On PostgreSQL the schema's tables are created under an advisory lock, so
processes starting together on a fresh schema do not race.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.persistence import ApplicationRecorder

from adapters.blobs.config import build_blob_store
from adapters.blobs.port import BlobStore
from adapters.holidays.stored_arrangement import use_stored_arrangement
from adapters.key_check import prove_cipher_key, prove_query_code_key
from adapters.keys import CIPHER_FILE, QUERY_CODE_FILE, key_from, read_keys, retired_keys
from adapters.org_file import load_org_chart
from adapters.outbox import Outbox, build_notifier
from adapters.persistence.case_histories import events_after
from adapters.persistence.group_commit import GroupCommitRecorder
from adapters.persistence.id_ranges import records_in_range
from adapters.persistence.locked_insert import LockedInsertRecorder
from adapters.persistence.shared_counters import SharedCounters
from adapters.persistence.views import ViewStore
from adapters.policy_file import load_business_time, load_ladder, load_policy
from adapters.schema_lock import schema_creation_lock
from adapters.settings import Settings
from adapters.sqlite_file import check_integrity, create_private, holds_events
from adapters.store import ensure_postgres_schema, store_env
from adapters.synthetic.simulation import DEFAULT_START, Simulation
from adapters.throttle import QueryCodeThrottle, SharedQueryCodeThrottle
from projections.runner import (
    READ_MODELS,
    ProjectionRunner,
    Shared,
    catch_up,
    supervision_queue,
)
from projections.similar_cases import SimilarCases
from workflows.application import PetitionApplication
from workflows.clock import Clock, ManualClock
from workflows.notifier import Notifier
from workflows.query_codes import QueryCodes
from workflows.reception.reminders import ReceptionReminders
from workflows.supervision.process import ObligationQueue, SupervisionProcess
from workflows.supervision.timer import SupervisionTimer
from workflows.tokens import TokenService

if TYPE_CHECKING:
    from adapters.kafka.inbound import InboundConsumer
    from adapters.kafka.inbound_status import InboundStatus
    from adapters.kafka.relay import Relay, RelayStatus
    from adapters.leadership import Leader
    from adapters.pages.drafts import FilingStore
    from adapters.pages.sessions import Sessions
    from adapters.persistence.leader_lock import LeaderLock
    from adapters.roles import Part, Role
    from workflows.inbound.mapping import InboundMap

log = structlog.get_logger("petition.wiring")


class Root:
    """The object graph of one process: the application, tokens, read-model runner, the
    supervision process and timer, and the Kafka relay."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 app: PetitionApplication | None = None, tokens: TokenService | None = None,
                 views: ViewStore | None = None):
        self.settings, self.clock = settings, clock
        self._app, self._tokens, self._views = app, tokens, views
        self._blobs: BlobStore | None = None
        self._similar: SimilarCases | None = None
        self._shared: Shared | None = None  # what this process's view runners share

    @classmethod
    def from_environment(cls, *, clock: Clock | None = None) -> Root:
        """The only reader of the environment (PETITION_*, KAFKA_*: docs/operations.md)."""
        return cls(Settings.from_env(), clock=clock)

    def with_clock(self, clock: Clock) -> Root:
        """The same settings on another clock (the simulation's hand-moved one)."""
        return Root(self.settings, clock=clock)

    @property
    def app(self) -> PetitionApplication:
        if self._app is None:
            self._app = build_application(self.settings, clock=self.clock)
        return self._app

    @property
    def tokens(self) -> TokenService:
        if self._tokens is None:
            self._tokens = TokenService(self.app, self.app.org, self.app.clock)
        return self._tokens

    @property
    def views(self) -> ViewStore:
        """The read models' storage beside the events (a connection pool of its own)."""
        if self._views is None:
            self._views = ViewStore.beside(self.app)
        return self._views

    def similar_cases(self) -> SimilarCases:
        """The process's one similar-cases index (in memory: its texts are personal data),
        shared by the routes, the CLI and the ``SimilarCasesFollower`` that keeps it warm."""
        if self._similar is None:
            self._similar = SimilarCases(self.app)
        return self._similar

    def query_code_throttle(self) -> SharedQueryCodeThrottle | QueryCodeThrottle:
        """The query-code guessing limits, counted in the store for every process on it (in
        memory for an in-memory store, which only one process can use)."""
        app = self.app
        datastore = getattr(app.factory, "datastore", None)
        if datastore is None:
            return QueryCodeThrottle()
        counters = SharedCounters(datastore, postgres=self.settings.is_postgres)
        codes = app.query_codes
        return SharedQueryCodeThrottle(
            counters, (lambda key: codes.derive("throttle", key)) if codes is not None
            else (lambda key: hashlib.sha256(key.encode()).hexdigest()))

    def citizen_sessions(self) -> Sessions:
        """The citizen pages' sessions and form tokens, kept in the store for every process on
        it (in memory for an in-memory store, which only one process can use)."""
        from adapters.pages.sessions import LIMITS, MemorySessions, StoredSessions
        from adapters.persistence.shared_sessions import SharedSessions

        shared = self._shared_store("the citizen sessions")
        if shared is None:
            return MemorySessions()
        datastore, cipher, mac = shared
        return StoredSessions(
            SharedSessions(datastore, postgres=self.settings.is_postgres, limits=LIMITS),
            mac, cipher.encrypt, cipher.decrypt)

    def citizen_filing(self) -> FilingStore:
        """The online filing's drafts and abuse limits, kept in the store for every process on
        it (in memory for an in-memory store, which only one process can use)."""
        from adapters.pages.drafts import CAPACITY, CODE_TTL, memory_filing, stored_filing
        from adapters.persistence.shared_drafts import SharedDrafts

        shared = self._shared_store("the filing's drafts")
        if shared is None:
            return memory_filing()
        datastore, cipher, mac = shared
        postgres = self.settings.is_postgres
        return stored_filing(
            SharedDrafts(datastore, postgres=postgres, ttl=CODE_TTL, capacity=CAPACITY),
            SharedCounters(datastore, postgres=postgres), mac, cipher.encrypt, cipher.decrypt)

    def _shared_store(self, what: str) -> tuple[Any, Any, Any] | None:
        """(datastore, cipher, keyed hash) for state every process on the store shares, sealed
        with the store's cipher; None for an in-memory store, which only one process can use."""
        app = self.app
        datastore = getattr(app.factory, "datastore", None)
        if datastore is None or app.query_codes is None:
            return None
        if app.mapper.cipher is None:  # never so: build_application always encrypts
            raise RuntimeError(f"{what} are sealed with the store's cipher")
        return datastore, app.mapper.cipher, app.query_codes.mac

    def outbox(self) -> Outbox:
        """The embedded notifier's outbox (its texts encrypted with the store's cipher)."""
        return Outbox(self.settings, self.app.mapper.cipher)

    def blobs(self) -> BlobStore:
        """The attachments' bytes: ``PETITION_BLOB_STORE`` (the folder, or an S3 bucket)."""
        if self._blobs is None:
            self._blobs = build_blob_store(self.settings, self.app.mapper.cipher)
        return self._blobs

    def notifier(self) -> Notifier:
        """How texts reach citizens' phones: ``PETITION_NOTIFIER`` (default: the outbox)."""
        return build_notifier(self.settings, self.app.mapper.cipher)

    def projection_runner(self, *, batch_size: int = 500,
                          names: Iterable[str] = READ_MODELS) -> ProjectionRunner:
        """The read models followed in background threads (started by the caller)."""
        if self._shared is None:  # the runners of this process share one read of the log
            self._shared = Shared.of(self.app, self.views)
        return ProjectionRunner(self.app, self.views, names, batch_size=batch_size,
                                shared=self._shared)

    def supervision_process(self, queue: ObligationQueue) -> SupervisionProcess:
        return SupervisionProcess(self.app, queue)

    def supervision_timer(self, queue: ObligationQueue, refresh: Callable[[], Any],
                          interval: float | None = None) -> SupervisionTimer:
        """The closed loop: ``refresh`` catches the queue up, then the process ticks."""
        return SupervisionTimer(
            self.app, self.supervision_process(queue), refresh=refresh,
            interval=self.settings.supervision_interval if interval is None else interval,
            also=[self.reception_reminders().tick])

    def reception_reminders(self) -> ReceptionReminders:
        """Reminders of booked receptions through the configured notifier (the outbox)."""
        return ReceptionReminders(self.app, self.notifier())

    def simulation(self, clock: ManualClock, *, seed: int, cases_per_day: int,
                   start: date = DEFAULT_START) -> Simulation:
        """The synthetic district on ``clock`` (this root's, moved by the simulation), with
        the supervision queue caught up before each day's tick."""
        app, views = self.app, self.views
        queue = supervision_queue(views)
        return Simulation(app, clock, queue, lambda: catch_up(app, views, "supervision_queue"),
                          process=self.supervision_process(queue),
                          seed=seed, cases_per_day=cases_per_day, start=start)

    def relay(self, **overrides: Any) -> Relay:
        """The relay of the configured store and broker, with its own application instance
        (it reads the log in its own thread)."""
        from adapters.kafka.relay import Relay, RelayConfig  # kafka-python only when relaying

        return Relay(build_application(self.settings),
                     RelayConfig.from_settings(self.settings, **overrides))

    @property
    def roles(self) -> Mapping[str, Role]:
        """What `petition worker` can run (adapters/roles.py; other packages register more)."""
        from adapters.roles import ROLES

        return ROLES

    def role_parts(self, name: str) -> list[Part]:
        """The single-leader parts of a role, or of every role that can run here (``all``);
        RoleUnavailable when the named role cannot."""
        from adapters.roles import RoleUnavailable

        if name != "all":
            return self.roles[name].parts(self)
        parts: list[Part] = []
        for role in self.roles.values():
            try:
                parts += role.parts(self)
            except RoleUnavailable as why:
                log.info("worker.role_skipped", role=role.name, why=str(why))
        return parts

    def leader_lock(self, part: str) -> LeaderLock:
        """PostgreSQL: an advisory lock keyed by the part and the schema; SQLite: a file lock
        in the data folder."""
        from adapters.persistence.leader_lock import AdvisoryLock, FileLock

        if self.settings.is_postgres:
            return AdvisoryLock(self.settings.store, self.settings.postgres_schema, part,
                                connect_timeout=self.settings.store_timeout)
        return FileLock(self.settings.data_dir, part)

    def leaders(self, role: str, *, poll: float = 1.0) -> list[Leader]:
        """One leader (not yet started) per part of ``role``."""
        from adapters.leadership import Leader

        return [Leader(p.name, self.leader_lock(p.name), p.start, poll=poll)
                for p in self.role_parts(role)]

    def relay_status(self) -> RelayStatus:
        """Where the relay stands in this root's log (no broker needed)."""
        from adapters.kafka.relay import Relay, RelayConfig

        config = RelayConfig(bootstrap_servers=self.settings.kafka_bootstrap_servers or "",
                             topic=self.settings.kafka_topic)
        return Relay(self.app, config).status()

    # ------------------------------------------------------------------ inbound work orders
    def inbound_map(self) -> InboundMap:
        """The operator's map (PETITION_INBOUND_MAP); InvalidCommand when unset or bad."""
        from adapters.inbound_map_file import load_inbound_map
        from domain.errors import InvalidCommand

        if self.settings.inbound_map is None:
            raise InvalidCommand("set PETITION_INBOUND_MAP to the inbound map file (TOML)")
        return load_inbound_map(self.settings.inbound_map)

    @property
    def runs_inbound(self) -> bool:
        """Whether ``serve`` runs the inbound loops: a broker and a map are configured."""
        return bool(self.settings.kafka_bootstrap_servers and self.settings.inbound_map)

    def inbound(self, **overrides: Any) -> InboundConsumer:
        """The consumer of external work orders, with its own application instance."""
        from adapters.kafka.inbound import InboundConfig, InboundConsumer

        return InboundConsumer(build_application(self.settings), self.inbound_map(),
                               InboundConfig.from_settings(self.settings, **overrides))

    def inbound_replies(self, **overrides: Any) -> Relay:
        """The relay of replies to the source systems, with its own application instance."""
        from adapters.kafka.inbound_replies import REPLY_TOPICS, replies_of, reply_publishers
        from adapters.kafka.relay import Relay, RelayConfig
        from adapters.kafka.tracking import relay_tracking

        rules, app = self.inbound_map(), build_application(self.settings)
        topics = ",".join(sorted(set(rules.reply_topics.values())))
        return Relay(app, RelayConfig.from_settings(self.settings, **{"topic": topics, **overrides}),
                     tracking=relay_tracking(app.factory.datastore, replies=True),  # type: ignore[attr-defined]
                     publisher_factory=reply_publishers(rules), outgoing=replies_of(app, rules),
                     topics=REPLY_TOPICS, name="inbound replies")

    def inbound_loops(self) -> dict[str, Any]:
        """The inbound component, as ``serve`` and a worker run it: the consumer and the reply
        relay, each with ``start``/``stop``/``close``/``run`` and a ``health`` (/readyz)."""
        return {"inbound": self.inbound(), "inbound_replies": self.inbound_replies()}

    def inbound_status(self) -> InboundStatus:
        from adapters.kafka.inbound_status import inbound_status

        s = self.settings
        return inbound_status(s.kafka_bootstrap_servers or "", s.inbound_topic, s.inbound_group,
                              s.inbound_dead_letter_topic)


def build_application(settings: Settings, *, clock: Clock | None = None,
                      check_integrity_first: bool = True) -> PetitionApplication:
    """The application over the configured store, keys, chart, policy and calendar."""
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
            wrap_writes=_group_commit(settings) or _locked_insert(settings),
            records_in_range=records_in_range,
            events_after=events_after,
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


def _locked_insert(settings: Settings
                   ) -> Callable[[ApplicationRecorder], ApplicationRecorder] | None:
    """On PostgreSQL each save is one statement (adapters/persistence/locked_insert.py)."""
    if not settings.is_postgres:
        return None
    return LockedInsertRecorder  # type: ignore[return-value]


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
