"""The petition application: ``register`` and ``execute`` (any declared case command), plain
values in and out.

Each command method loads the case, lets the aggregate decide, and saves the new events in one
atomic write. A refused command raises before ``save`` and so appends nothing; a lost race on
the case's version surfaces as ``ConcurrentModification``, never as a lost update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    Repository,
    project_aggregate,
)
from eventsourcing.persistence import (
    ApplicationRecorder,
    EventStore,
    IntegrityError,
    Recording,
    Transcoder,
)

from domain.business_time import BusinessTimeRules
from domain.deadlines import Deadline, DeadlinePolicy
from domain.derived_times import check_derivable
from domain.errors import DomainError
from domain.events import Registered
from domain.org_chart_record import ORG_CHART_ID, OrgChartRecord, rows_of
from domain.petition import Petition
from domain.query_code_index import QueryCodeIndex
from domain.supervision_ladder import LadderRules
from domain.units import OrgChart
from domain.values import Attachment, Location, Petitioner
from workflows import commands as c
from workflows.case_batch import CaseBatch, EventsAfter, cached_copy
from workflows.clock import Clock, SystemClock
from workflows.collected import CollectedEvents
from workflows.command_table import COMMANDS
from workflows.concluded_matters import (
    ConcludedMatterIndex,
    EventsInRanges,
    never_answered,
    petitioner_key,
    scan_for_records,
)
from workflows.decisions import decide
from workflows.errors import (
    AccessDenied,
    CaseNotFound,
    ConcurrentModification,
    IdempotencyKeyReused,
    QueryCodeNotFound,
)
from workflows.held import Held
from workflows.idempotency import IdempotentResponse, fingerprint, record_id
from workflows.inbound.origin import ExternalRef, InboundOrigin
from workflows.proxy_agents import check_entrusted_agent, check_proxy_agent
from workflows.public_steps import StepsOfCases
from workflows.query_codes import QueryCodes
from workflows.reception.release import released_slots
from workflows.snapshot_lookup import SnapshotAwareRepository, may_have_snapshot
from workflows.transcodings import TRANSCODINGS, FastJSONTranscoder


@dataclass(frozen=True)
class CommandResult:
    case_id: UUID
    version: int
    position: int
    status: str
    deadline: Deadline | None


@dataclass(frozen=True)
class Registration(CommandResult):
    query_code: str
    concluded_in: str | None = None  # 不再受理: the earlier case the registration was flagged with


@dataclass(frozen=True)
class Idempotency:
    """A caller's idempotency key; ``scope`` keeps different callers' keys apart."""

    scope: str
    key: str


IdempotentRegistration = tuple[c.RegisterPetition, Idempotency, ExternalRef | None]


class PetitionApplication(Application[UUID]):
    name = "Petitions"
    snapshotting_intervals = {Petition: 50}  # a long case loads from its latest snapshot

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        org: OrgChart | None = None,
        policy: DeadlinePolicy | None = None,
        ladder: LadderRules | None = None,
        business_time: BusinessTimeRules | None = None,
        query_codes: QueryCodes | None = None,
        clock: Clock | None = None,
        wrap_writes: Callable[[ApplicationRecorder], ApplicationRecorder] | None = None,
        records_in_range: Callable[[ApplicationRecorder], EventsInRanges | None] | None = None,
        events_after: Callable[[ApplicationRecorder], EventsAfter | None] | None = None,
    ):
        self.wrap_writes = wrap_writes  # read while the library builds the event store
        super().__init__(env)
        self.org = org if org is not None else OrgChart([])
        self.policy = policy or DeadlinePolicy()
        self.ladder = ladder or LadderRules()
        self.business_time = business_time or BusinessTimeRules()
        self.query_codes = query_codes
        self.clock = clock or SystemClock()
        self._on_close: list[Callable[[], None]] = []
        keyed = records_in_range(self.recorder) if records_in_range is not None else None
        self.concluded_matters = ConcludedMatterIndex(  # a keyed range, else a scan
            self.repository, self.recorder, self.mapper, keyed or scan_for_records(self.recorder))
        self.case_batch = CaseBatch(  # a page of cases in one read (else one by one)
            self.repository, self.mapper,
            events_after(self.recorder) if events_after is not None else None)
        self.public_steps = StepsOfCases(self._events_between)  # what a petitioner follows
        self.codes_found: Held[str, tuple[str, UUID]] = Held(10_000)  # query-code index records

    def on_close(self, release: Callable[[], None]) -> None:
        """Run ``release`` when the application closes: resources opened beside it (the views'
        own connection pool) must not outlive it."""
        self._on_close.append(release)

    def close(self) -> None:
        while self._on_close:
            self._on_close.pop()()
        super().close()

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON format, read faster (``FastJSONTranscoder``), with the
        library's transcodings and ours."""
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        for transcoding in TRANSCODINGS:
            transcoder.register(transcoding)
        return transcoder

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository, reading snapshots only for aggregates that may have one
        (workflows/snapshot_lookup.py)."""
        return SnapshotAwareRepository.around(super().construct_repository())

    def take_snapshot(self, aggregate_id: UUID, version: int | None = None,
                      projector_func: Any = project_aggregate) -> None:
        """The library's, refusing an aggregate the repository would never look up a snapshot
        for (a ``uuid5`` natural-key index: see workflows/snapshot_lookup.py)."""
        if not may_have_snapshot(aggregate_id):
            raise ValueError(f"aggregate {aggregate_id} is never snapshotted (uuid5 id)")
        super().take_snapshot(aggregate_id, version, projector_func)

    def construct_event_store(self) -> EventStore[UUID]:
        """Saves write through ``wrap_writes(recorder)`` when the composition root injects one
        (group commit); reads keep the plain recorder."""
        store = super().construct_event_store()
        if self.wrap_writes is not None:
            store.recorder = self.wrap_writes(self.recorder)
        return store

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's ``save`` (pinned by tests/unit/test_collected.py), collecting with
        ``CollectedEvents``: the same events and aggregates, without the protocol checks."""
        processing_event = CollectedEvents()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, kept as it does
        return recordings

    # ------------------------------------------------------------------ commands
    def register(self, cmd: c.RegisterPetition, *, idempotency: Idempotency | None = None,
                 origin: ExternalRef | None = None,
                 attachments: tuple[Attachment, ...] = ()) -> Registration:
        """Registers a case; ``origin`` (an inbound work order's id) is saved with it, and the
        ``attachments`` whose bytes the caller has already stored (by their SHA-256) are
        recorded with it: they are not part of the command's JSON shape."""
        replayed = self._replay(cmd, idempotency)
        if replayed is not None:  # the flag as registered, though intake may have decided it
            registered = self.get_petition(replayed["case_id"], version=replayed["version"])
            return Registration(**replayed, query_code=self._query_code(idempotency),
                                concluded_in=registered.concluded_flag)
        petition, companions, query_code, deadline = self._new_case(cmd, idempotency, origin,
                                                                    attachments)
        result = self._store(petition, *companions, cmd=cmd, idempotency=idempotency,
                             deadline=deadline)
        return Registration(**vars(result), query_code=query_code,
                            concluded_in=petition.concluded_flag)

    def register_all(self, orders: Sequence[IdempotentRegistration]
                     ) -> list[Registration | DomainError]:
        """Registers several orders in ONE save (an inbound consumer's poll: one commit and no
        lookups, not one of each per order); each is decided on its own first. Optimistic: a
        key seen before makes the save fail on its record's id (IntegrityError); the orders
        whose key is recorded then go the one-by-one way of ``register``, which replays them,
        and the rest are saved together again (if that fails too, one by one). So do a key
        repeated within the batch and an order refused here (it may be a replay: a replay is
        never refused). A refused order comes back as its error and appends nothing."""
        results: list[Registration | DomainError | None] = [None] * len(orders)
        keys = {(o[1].scope, o[1].key): i for i, o in reversed(list(enumerate(orders)))}
        pending = list(keys.values())  # the first order of each key
        later = [i for i in range(len(orders)) if i not in set(pending)]
        for attempt in range(2):
            fresh: list[tuple[int, Petition, list[Any], str, Deadline | None]] = []
            known = self.concluded_matters.case_ids_of(  # one read for the batch, not per order
                petitioner_key(self._codes(), orders[i][0].petitioner.id_number) for i in pending)
            for i in sorted(pending):
                cmd, idempotency, origin = orders[i]
                try:
                    petition, companions, code, deadline = self._new_case(cmd, idempotency,
                                                                          origin, known=known)
                except DomainError:
                    later.append(i)
                    continue
                record = self._idempotency_record(petition, cmd, idempotency)
                fresh.append((i, petition, [*companions, record], code, deadline))
            if not fresh:
                break
            try:
                recordings = self.save(*(a for _, p, more, *_ in fresh for a in (p, *more)))
            except IntegrityError:  # keys seen before: those are replayed one by one
                pending = [i for i, _, more, *_ in fresh
                           if not attempt and not self._recorded(more[-1].id)]
                later += [i for i, *_ in fresh if i not in pending]
                continue
            position = max(r.notification.id for r in recordings)
            for i, petition, _, code, deadline in fresh:
                self._remember(petition)
                results[i] = Registration(petition.id, petition.version, position,
                                          petition.status.value, deadline, code,
                                          petition.concluded_flag)
            break
        for i in sorted(later):
            cmd, idempotency, origin = orders[i]
            try:
                results[i] = self.register(cmd, idempotency=idempotency, origin=origin)
            except DomainError as error:
                results[i] = error
        return [r for r in results if r is not None]

    def _new_case(self, cmd: c.RegisterPetition, idempotency: Idempotency | None,
                  origin: ExternalRef | None, attachments: tuple[Attachment, ...] = (), *,
                  known: Mapping[str, list[UUID]] | None = None
                  ) -> tuple[Petition, list[Any], str, Deadline | None]:
        """The decided new case, its companion aggregates, its query code and its deadline
        (nothing saved)."""
        codes = self._codes()
        query_code = self._query_code(idempotency)
        code_hash = codes.hash(query_code)
        if cmd.proxy_agent is not None:
            check_proxy_agent(self, cmd.proxy_agent)
            if cmd.entrustment is not None:
                check_entrusted_agent(self, cmd.proxy_agent, cmd.entrustment.grid)
        at = self._business_time(cmd, self.clock.now())
        # the validated models' own fields (``vars``: what ``model_dump`` copies, without
        # pydantic's serializer; both are flat models of plain values)
        location = Location(**vars(cmd.location))
        earlier = self.concluded_matters.concluded_earlier(
            self.policy, petitioner_key(codes, cmd.petitioner.id_number),
            category=cmd.category, location=location, subject=cmd.subject,
            content=cmd.content, at=at, known=known)
        petition = Petition.register(
            case_id=uuid4(),
            at=at,
            actor=cmd.actor,
            channel=cmd.channel,
            subject=cmd.subject,
            content=cmd.content,
            category=cmd.category,
            location=location,
            petitioner=Petitioner(**vars(cmd.petitioner)),
            co_petitioners=max(cmd.co_petitioners, len(cmd.group)),
            received_by=cmd.received_by,
            proxy_agent=cmd.proxy_agent,
            query_code_hash=code_hash,
            org=self.org,
            policy=self.policy,
            attachments=attachments,
            entrustment=cmd.entrustment.terms() if cmd.entrustment is not None else None,
            concluded_in=earlier,
        )
        for member in cmd.group:  # 集体访 / 联名: each co-petitioner, in the same write
            petition.add_co_petitioner(at=petition.received_at, actor=cmd.actor,
                                       **member.model_dump())
        deadline = check_derivable(petition, self.policy, self.ladder)
        companions: list[Any] = [QueryCodeIndex.indexed(code_hash, petition.id)]  # its event
        if origin is not None:
            companions.append(InboundOrigin(case_id=petition.id, source=origin.source,
                                            external_id=origin.external_id))
        return petition, companions, query_code, deadline

    def execute(
        self,
        cmd: c.Command,
        *,
        guard: Callable[[Petition], None] | None = None,
        idempotency: Idempotency | None = None,
    ) -> CommandResult:
        """Runs any command: load, replay if idempotent and seen, else guard, decide, save.

        Case commands are dispatched through their declarations (``command_table.COMMANDS``),
        so there is no method per command.

        A case in this process's cache is decided on as cached, without reading the store: the
        save's version key refuses it if anything was appended since (another process's
        write), so no decision on an old state is ever stored. If the save is refused, or the
        guard or the rules refuse the command, and another process had appended to the case,
        the command is decided once more on the stored case (which a fresh read would have
        given); a refusal on an up-to-date case, or a race lost to a save of this process, stands.

        ``guard`` (e.g. an authorization check) sees the same loaded case the command decides
        on; whatever it raises propagates and nothing is appended. The idempotency key is
        looked up after the case is loaded: a twin request that committed before the load is
        found by the lookup, one that commits after it collides with this save (see _store).
        """
        if isinstance(cmd, c.RegisterPetition):
            return self.register(cmd, idempotency=idempotency)
        if not isinstance(cmd, c.CaseCommand):
            raise TypeError(f"not a command: {type(cmd).__name__}")
        cached = self._cached_copy(cmd.case_id)
        if cached is None:
            return self._decide(self.get_petition(cmd.case_id), cmd, guard, idempotency)
        version = cached.version
        try:
            return self._decide(cached, cmd, guard, idempotency)
        except (DomainError, AccessDenied):
            fresh = self._written_elsewhere(cmd.case_id, version)
            if fresh is None:
                raise
        return self._decide(fresh, cmd, guard, idempotency)

    def _cached_copy(self, case_id: UUID) -> Petition | None:
        """The case as this process last saved or read it (``case_batch.cached_copy``). It may be
        behind another process's writes: a decision on it that fails is checked by
        ``_written_elsewhere``."""
        return cached_copy(self.repository, case_id)

    def _written_elsewhere(self, case_id: UUID, version: int) -> Petition | None:
        """The case as stored, if events from elsewhere followed ``version`` (the cached copy a
        command decided on); None if the store holds nothing newer, or if this process itself
        has moved the case on since the copy was taken — a race lost within the process stands,
        exactly as after a fresh read."""
        cache = self.repository.cache
        try:
            if cache is not None and cache.get(case_id).version != version:
                return None
        except KeyError:
            pass
        petition = self.get_petition(case_id)  # reads the events recorded since
        return petition if petition.version > version else None

    def _decide(self, petition: Petition, cmd: c.CaseCommand,
                guard: Callable[[Petition], None] | None,
                idempotency: Idempotency | None) -> CommandResult:
        replayed = self._replay(cmd, idempotency)
        if replayed is not None:
            return CommandResult(**replayed)
        if guard is not None:
            guard(petition)
        at = self._business_time(cmd, max(self.clock.now(), petition.last_at))
        first_answer = never_answered(petition)
        deadline = decide(petition, cmd, at, self.org, self.policy, self.ladder)
        after = COMMANDS.of(type(cmd)).after
        if after is not None:  # e.g. a check that needs the store, after the case's rules
            after(self, cmd)
        # The case's own concluded-matter record joins its first answer (no other case's).
        record = self.concluded_matters.record_of(
            self.policy, self._codes(), petition, first_answer=first_answer) \
            if isinstance(cmd, c.AnswerPetition) and self.query_codes is not None else None
        return self._store(petition, *([record] if record is not None else []), cmd=cmd,
                           idempotency=idempotency, deadline=deadline)

    # ------------------------------------------------------------------ queries
    def get_petition(self, case_id: UUID, version: int | None = None) -> Petition:
        """The case now, or at ``version``, each in one read of the store at most.

        Now: as a page of cases is read (``get_petitions``), where the store has that read: a
        cached case gets the events after its version (the library's fast-forward), any other
        all its events in one statement, where the library's repository read its snapshot
        first, a second round trip that finds nothing for nearly every case (one with a
        snapshot has over 50 events). At ``version``: a case cached at exactly that version is
        that version (a case's state is its events up to it, which never change), so the
        answer of a command this process just saved (the routes answer with the case at the
        command's version) reads nothing."""
        if version is None and self.case_batch.events_after is not None:
            return self.case_batch.get([case_id], self._stored_petition)[case_id]
        if version is not None:
            cached = self._cached_copy(case_id)
            if cached is not None and cached.version == version:
                return cached
        return self._stored_petition(case_id, version)

    def _stored_petition(self, case_id: UUID, version: int | None = None) -> Petition:
        """The case read by the library's repository (snapshot, then events)."""
        try:
            petition: object = self.repository.get(case_id, version=version)
        except AggregateNotFoundError:
            raise CaseNotFound(case_id) from None
        if not isinstance(petition, Petition):
            raise CaseNotFound(case_id)
        return petition

    def get_petitions(self, case_ids: Sequence[UUID]) -> dict[UUID, Petition]:
        """Each case now, as ``get_petition`` reads it, all in one read of the store where
        the store has one (workflows/case_batch.py): a page of a queue's cases."""
        return self.case_batch.get(case_ids, self._stored_petition)

    def case_id_for_query_code(self, query_code: str) -> UUID:
        """The case a query code opens; the stored hash is compared in constant time.

        Index records found are held (``codes_found``): a record is written once with its
        case and has no event after its first (``QueryCodeIndex``), so a held one is the
        stored one, in any process; a code not found is asked of the store every time (it
        counts against the guessing limits, and its case may be registered meanwhile)."""
        codes = self._codes()
        code_hash = codes.hash(query_code)
        found = self.codes_found.get(code_hash)
        if found is None:
            try:
                index: QueryCodeIndex = self.repository.get(QueryCodeIndex.create_id(code_hash))
            except AggregateNotFoundError:
                raise QueryCodeNotFound() from None
            found = (index.query_code_hash, index.case_id)
            self.codes_found.put(code_hash, found)
        if not codes.matches(query_code, found[0]):
            raise QueryCodeNotFound()
        return found[1]

    def _events_between(self, case_id: UUID, after: int, upto: int) -> list[Any]:
        """The case's events after version ``after``, up to and including ``upto``."""
        return list(self.repository.event_store.get(case_id, gt=after or None, lte=upto))

    def events_of(self, case_id: UUID) -> list[Any]:
        """Every stored event of the case, in order (raises CaseNotFound if none)."""
        events = list(self.repository.event_store.get(case_id))
        if not events or not isinstance(events[0], Registered):
            raise CaseNotFound(case_id)
        return events

    def load_units(self, chart: OrgChart, source: str) -> None:
        """Records ``chart`` as the one in force (validated already by OrgChart) and uses it."""
        rows = rows_of(chart)
        try:
            record: OrgChartRecord = self.repository.get(ORG_CHART_ID)
            record.reload(units=rows, source=source)
        except AggregateNotFoundError:
            record = OrgChartRecord(units=rows, source=source)
        self.save(record)
        self.org = chart

    def use_stored_units(self) -> bool:
        """Switches to the chart loaded into the store, if any (it wins over files)."""
        try:
            record: OrgChartRecord = self.repository.get(ORG_CHART_ID)
        except AggregateNotFoundError:
            return False
        self.org = record.chart
        return True

    def save_case(self, petition: Petition, *others: Any, cmd: c.Command) -> CommandResult:
        """Saves a case decided outside ``execute`` with its companion aggregates (a reception
        slot) in one transaction; a lost race on any of them is ``ConcurrentModification``."""
        return self._store(petition, *others, cmd=cmd, idempotency=None,
                           deadline=self.policy.current(petition))

    def deadline_of(self, petition: Petition) -> Deadline | None:
        return self.policy.current(petition)

    # ------------------------------------------------------------------ internals
    def _codes(self) -> QueryCodes:
        if self.query_codes is None:
            raise RuntimeError("PetitionApplication needs query_codes to register or look up")
        return self.query_codes

    def _business_time(self, cmd: c.Command, default: datetime) -> datetime:
        """``cmd.at`` within the policy's bounds around now; without one, ``default`` (now,
        or a case's last business time if a caller's fast clock put that slightly ahead)."""
        at = default if cmd.at is None else cmd.at
        return self.business_time.check(at, self.clock.now())

    def _query_code(self, idempotency: Idempotency | None) -> str:
        """A fresh code; under an idempotency key a derived one, so a retry can show it again
        without it ever being stored."""
        codes = self._codes()
        return codes.derive(idempotency.scope, idempotency.key) if idempotency else codes.new()

    def _replay(self, cmd: c.Command, idempotency: Idempotency | None) -> dict[str, Any] | None:
        if idempotency is None:
            return None
        try:
            record: IdempotentResponse = self.repository.get(
                record_id(idempotency.scope, idempotency.key))
        except AggregateNotFoundError:
            return None
        if record.fingerprint != fingerprint(cmd):
            raise IdempotencyKeyReused()
        petition = self.get_petition(UUID(record.result["case_id"]))
        return {
            "case_id": petition.id,
            "version": record.result["version"],
            "status": record.result["status"],
            # The first response's events are at or below the log's end: waiting for this
            # position still reads the first response's writes.
            "position": self.recorder.max_notification_id() or 0,
            "deadline": self.policy.current(petition),
        }

    def _remember(self, petition: Petition) -> None:
        """Caches the case as just saved, so the next command on it reads no event back.

        The library caches only loaded aggregates when it fast-forwards; a saved one is at
        least as new, and fast-forwarding still brings in anything recorded since (by this
        or another process), so the cache can never hand out an older state than the store.
        """
        if self.repository.cache is not None:
            self.repository.cache.put(petition.id, petition)

    def _recorded(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    @staticmethod
    def _idempotency_record(petition: Petition, cmd: c.Command, idempotency: Idempotency
                ) -> IdempotentResponse:
        """The idempotency record of the command that brought the case to this version."""
        return IdempotentResponse(
            scope=idempotency.scope, key=idempotency.key, fingerprint=fingerprint(cmd),
            result={"case_id": str(petition.id), "version": petition.version,
                    "status": petition.status.value})

    def _store(self, petition: Petition, *others: Any, cmd: c.Command,
               idempotency: Idempotency | None, deadline: Deadline | None) -> CommandResult:
        """Saves the case (and any companion aggregates) atomically; reports its new state
        with ``deadline``, its current deadline as the decision computed it."""
        aggregates: list[Any] = [petition, *others, *released_slots(self.repository, petition)]
        if idempotency is not None:
            aggregates.append(self._idempotency_record(petition, cmd, idempotency))
        try:
            recordings = self.save(*aggregates)
        except IntegrityError:
            replayed = self._replay(cmd, idempotency)
            if replayed is not None:  # a twin request with the same key won the race
                return CommandResult(**replayed)
            raise ConcurrentModification(petition.id) from None
        self._remember(petition)
        return CommandResult(
            case_id=petition.id,
            version=petition.version,
            position=max(r.notification.id for r in recordings),
            status=petition.status.value,
            deadline=deadline,
        )
