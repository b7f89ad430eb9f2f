"""Auditor's trail: every event of every case, in order, hash-chained over the stored bytes.

Each entry's hash is sha256(previous entry's hash of the same case + the canonical bytes of
the stored event exactly as recorded: topic, originator id, version and the stored — here
encrypted — state). The bytes are read from the events table inside the same transaction
that writes the entry. ``verify`` re-reads the event store, recomputes every chain and names
each altered, removed, inserted or moved stored event with its case, version and position.
Payloads are the AUDITOR audience's (``workflows/privacy.py``): the petitioner, the free-text
content, the address and the query code's hash never enter this table (a reader allowed to
see the petitioner has it put back from the case).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain import events as ev
from projections.batching import BatchProjection, Item
from projections.case_states import case_key
from projections.view import SQLITE, PositionMoved, Row, View
from workflows.case_summary import event_data
from workflows.privacy import Audience

GENESIS = "0" * 64
CASE_TOPIC_PREFIX = "domain.events:"
ENTRY_COLUMNS = ("case_id", "version", "position", "type", "at", "recorded_at", "actor",
                 "payload", "prev_hash", "entry_hash")


def canonical_bytes(topic: str, originator_id: UUID | str, version: int, state: bytes) -> bytes:
    """The stored event as recorded, in one unambiguous byte string."""
    hex_id = originator_id.hex if isinstance(originator_id, UUID) else UUID(originator_id).hex
    head = f"{topic}\x1f{hex_id}\x1f{version}\x1f".encode()
    return head + bytes(state)


def chain(previous_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(previous_hash.encode() + canonical).hexdigest()


_PAYLOAD = json.JSONEncoder(default=str, sort_keys=True, ensure_ascii=False)  # json.dumps's


def redacted_payload(event: ev.PetitionEvent) -> str:
    """The AUDITOR's view of the event's fields, less those with columns of their own."""
    return _PAYLOAD.encode(event_data(event, Audience.AUDITOR, without=("at", "actor")))


class Heads:
    """The last (version, hash) of the most recently chained cases, oldest dropped first, so a
    batch seldom has to read the trail for where each of its cases' chains ends."""

    def __init__(self, capacity: int = 50_000):
        self.capacity = capacity
        self._heads: OrderedDict[str, tuple[int, str]] = OrderedDict()

    def hash_at(self, case_id: str, version: int) -> str | None:
        head = self._heads.get(case_id)
        return head[1] if head is not None and head[0] == version else None

    def remember(self, case_id: str, version: int, entry: str) -> None:
        self._heads[case_id] = (version, entry)
        self._heads.move_to_end(case_id)
        if len(self._heads) > self.capacity:
            self._heads.popitem(last=False)


@dataclass(frozen=True)
class Finding:
    case_id: str
    version: int | None
    position: int | None
    problem: str  # altered | removed | inserted | moved | broken-chain | unchained
    detail: str


_DDL = (
    "CREATE TABLE IF NOT EXISTS {t[audit_trail]} (case_id TEXT NOT NULL, version INTEGER NOT "
    "NULL, position BIGINT NOT NULL, type TEXT NOT NULL, at {ts} NOT NULL, recorded_at {ts} "
    "NOT NULL, actor TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, "
    "entry_hash TEXT NOT NULL, PRIMARY KEY (case_id, version))",
    "CREATE INDEX IF NOT EXISTS audit_trail_position ON {t[audit_trail]} (position)",
    "CREATE INDEX IF NOT EXISTS audit_trail_type ON {t[audit_trail]} (type)",  # counts_by
)


class AuditTrail(View, ABC):
    DDL = _DDL
    name = "audit_trail"
    tables = ("audit_trail",)
    schema_version = 3  # 2: payloads without the query code's hash; 3: the type's index
    adds_indexes_to = frozenset({2})

    def entries_for(self, items: Sequence[Item], heads: Heads | None = None
                    ) -> list[tuple[Any, ...]]:
        """Chains the case events of a batch into trail rows (reads only).

        ``heads`` holds the last (version, hash) of recently chained cases; it is used only
        when it holds exactly the version before a case's first event in the batch, so it is
        safe when it is behind the trail or ahead of it (a batch that failed to commit). A
        case's versions must follow one another (a stored event removed before the trail
        chained it leaves a gap): an event is never chained onto any but its predecessor.
        The hash covers the stored bytes the event came from; an item without them (a single
        event from the library's per-event interface) has them read from the event table.
        """
        heads = Heads() if heads is None else heads
        keys = {i.event.originator_id.int: case_key(i.event.originator_id) for i in items}
        last_hash = self._previous_hashes(items, keys, heads)
        chained: dict[str, int] = {}  # a case's last version in this batch: never skip one
        rows = []
        # a read transaction only for items without their stored bytes (live batches have them)
        reading = self._reading() if any(i.state is None for i in items) else nullcontext()
        with reading as c:
            for item in items:
                event = item.event
                case_id, version = keys[event.originator_id.int], event.originator_version
                topic, state = item.topic, item.state
                if state is None:
                    self.execute(c, f"SELECT topic, state FROM {self.events_table()} "
                                    "WHERE originator_id = ? AND originator_version = ?",
                                 (self.originator_param(event.originator_id), version))
                    topic, state = dict(c.fetchone()).values()
                if case_id in chained and version != chained[case_id] + 1:
                    raise RuntimeError(f"the stored events of case {case_id} go from version "
                                       f"{chained[case_id]} to {version}")
                chained[case_id] = version
                prev_hash = last_hash.get(case_id, GENESIS)
                entry = chain(prev_hash, canonical_bytes(topic, event.originator_id, version,
                                                         state))
                last_hash[case_id] = entry
                heads.remember(case_id, version, entry)
                rows.append((case_id, version, item.position, type(event).__name__,
                             self.encode_time(event.at), self.encode_time(event.timestamp),
                             event.actor, redacted_payload(event), prev_hash, entry))
        return rows

    def _previous_hashes(self, items: Sequence[Item], keys: dict[int, str],
                         heads: Heads) -> dict[str, str]:
        """The hash each case's first event in the batch chains onto: from ``heads`` when it
        holds the version before, else from the trail, which must then end right there."""
        first: dict[str, int] = {}
        for item in items:
            first.setdefault(keys[item.event.originator_id.int], item.event.originator_version)
        found: dict[str, str] = {}
        missing: dict[str, int] = {}
        for case_id, version in first.items():
            if version == 1:
                continue
            known = heads.hash_at(case_id, version - 1)
            if known is None:
                missing[case_id] = version - 1
            else:
                found[case_id] = known
        latest = self._latest_entries(set(missing))
        for case_id, expected in missing.items():
            version, entry = latest.get(case_id, (0, GENESIS))
            if version > expected:  # another process chained this event first: a lost race
                raise PositionMoved(f"audit trail of case {case_id} already has version "
                                    f"{expected + 1}")
            if version < expected:
                raise RuntimeError(f"audit trail of case {case_id} ends at version {version}, "
                                   f"its next event is version {expected + 1}")
            found[case_id] = entry
        return found

    def append(self, rows: list[tuple[Any, ...]]) -> None:
        """Inserts chained trail rows (inside the caller's transaction)."""
        with self.batch() as c:
            self.insert_rows(c, "audit_trail", ENTRY_COLUMNS, rows)

    def _latest_entries(self, case_ids: set[str]) -> dict[str, tuple[int, str]]:
        """The last (version, entry hash) of each case already in the trail, in one query."""
        if not case_ids:
            return {}
        marks = ", ".join("?" for _ in case_ids)
        rows = self.query(
            f"SELECT case_id, version, entry_hash FROM {self.table('audit_trail')} "
            f"WHERE case_id IN ({marks})", tuple(case_ids))
        latest: dict[str, tuple[int, str]] = {}
        for row in rows:
            if row["version"] > latest.get(row["case_id"], (0, ""))[0]:
                latest[row["case_id"]] = (row["version"], row["entry_hash"])
        return latest

    # ------------------------------------------------------------------ queries
    def entries(self, case_id: Any) -> list[Row]:
        rows = self.query(f"SELECT * FROM {self.table('audit_trail')} WHERE case_id = ? "
                          "ORDER BY version", (case_key(case_id),))
        for row in rows:
            row["at"], row["recorded_at"] = (self.decode_time(row["at"]),
                                             self.decode_time(row["recorded_at"]))
            row["payload"] = json.loads(row["payload"])
        return rows

    def counts_by(self, event_type: str, field: str) -> dict[str, int]:
        """How many events of one type name each value of one payload field (a GROUP BY in
        SQL over the type's index, e.g. the measures each unit was issued)."""
        if not field.isidentifier():
            raise ValueError(f"not a payload field: {field!r}")
        value = (f"json_extract(payload, '$.{field}')" if self.dialect == SQLITE
                 else f"(payload::json ->> '{field}')")
        rows = self.query(f"SELECT {value} AS value, COUNT(*) AS n "
                          f"FROM {self.table('audit_trail')} WHERE type = ? GROUP BY {value}",
                          (event_type,))
        return {row["value"]: int(row["n"]) for row in rows}

    def case_ids(self) -> list[str]:
        return [r["case_id"] for r in self.query(
            f"SELECT DISTINCT case_id FROM {self.table('audit_trail')} ORDER BY case_id")]

    def stored_events(self, case_id: str | None, upto: int) -> list[Row]:
        """The case events now in the store (all cases when None), up to a position."""
        sql, params = self._stored_events_sql(case_id, upto)
        rows = self.query(sql, params)
        for row in rows:
            row["case_id"] = str(UUID(str(row["originator_id"])))
        return rows

    def _stored_events_sql(self, case_id: str | None, upto: int) -> tuple[str, list[Any]]:
        """The dialect's query for the stored case events up to a position."""
        if self.dialect == SQLITE:
            sql = (f"SELECT rowid AS position, originator_id, originator_version, topic, state "
                   f"FROM {self.events_table()} WHERE rowid <= ? AND topic LIKE ?")
            params: list[Any] = [upto, CASE_TOPIC_PREFIX + "%"]
            if case_id:
                sql += " AND originator_id = ?"
                params.append(UUID(case_id).hex)
            return sql, params
        sql = (f"SELECT notification_id AS position, originator_id, originator_version, topic, "
               f"state FROM {self.events_table()} WHERE notification_id <= ? "
               "AND starts_with(topic, ?)")
        params = [upto, CASE_TOPIC_PREFIX]
        if case_id:
            sql += " AND originator_id = ?"
            params.append(UUID(case_id))
        return sql, params

    def verify(self, case_id: Any = None, *, application_name: str) -> list[Finding]:
        """Every difference between the trail and the stored events it was built from."""
        upto = self.max_tracking_id(application_name) or 0
        key = case_key(case_id) if case_id is not None else None
        stored: dict[str, dict[int, Row]] = {}
        for row in self.stored_events(key, upto):
            stored.setdefault(row["case_id"], {})[row["originator_version"]] = row
        trail: dict[str, list[Row]] = {}
        for cid in ([key] if key else self.case_ids()):
            trail[cid] = self.query(
                f"SELECT case_id, version, position, prev_hash, entry_hash FROM "
                f"{self.table('audit_trail')} WHERE case_id = ? ORDER BY version", (cid,))
        findings: list[Finding] = []
        for cid in sorted(set(stored) | set(trail)):
            findings += _verify_case(cid, trail.get(cid, []), stored.get(cid, {}))
        return findings + self._unchained(key, upto)

    def _unchained(self, case_id: str | None, upto: int) -> list[Finding]:
        """The stored event the trail stopped before, as recorded by whoever tried to chain it
        (a catch-up or a runner): it cannot be read or chained (tampered before the trail
        recorded it, its predecessor removed, …), and nothing after it is verified."""
        stall = self.stall()
        if stall is None or stall["position"] <= upto:
            return []
        if case_id is not None and stall["case_id"] != case_id:
            return []
        return [Finding(stall["case_id"], self._version_at(stall["position"]), stall["position"],
                        "unchained", f"the audit trail cannot chain this stored event "
                        f"({stall['error']}); the events after it are not verified")]

    def _version_at(self, position: int) -> int | None:
        column = "rowid" if self.dialect == SQLITE else "notification_id"
        rows = self.query(f"SELECT originator_version FROM {self.events_table()} "
                          f"WHERE {column} = ?", (position,))
        return rows[0]["originator_version"] if rows else None


def _verify_case(case_id: str, entries: list[Row], stored: dict[int, Row]) -> list[Finding]:
    out: list[Finding] = []
    previous = GENESIS
    seen: set[int] = set()
    for entry in entries:
        version, position = entry["version"], entry["position"]
        seen.add(version)
        if entry["prev_hash"] != previous:
            out.append(Finding(case_id, version, position, "broken-chain",
                               "the trail entry does not follow the previous one"))
        previous = entry["entry_hash"]
        row = stored.get(version)
        if row is None:
            out.append(Finding(case_id, version, position, "removed",
                               "the stored event is missing from the event store"))
            continue
        if row["position"] != position:
            out.append(Finding(case_id, version, row["position"], "moved",
                               f"recorded at position {position}, now at {row['position']}"))
        digest = chain(entry["prev_hash"], canonical_bytes(
            row["topic"], row["originator_id"], version, row["state"]))
        if digest != entry["entry_hash"]:
            out.append(Finding(case_id, version, row["position"], "altered",
                               "the stored event's bytes differ from those recorded"))
    for version in sorted(set(stored) - seen):
        out.append(Finding(case_id, version, stored[version]["position"], "inserted",
                           "a stored event that the trail never recorded"))
    return out


class AuditTrailProjection(BatchProjection):
    name = "audit_trail"

    def __init__(self, view: AuditTrail, **_: Any):
        super().__init__(view)
        self.heads = Heads()

    def prepare(self, items: Sequence[Item]) -> list[tuple[Any, ...]]:
        return self.view.entries_for([item for item in items if item.is_case_event],
                                     self.heads)

    def write(self, prepared: list[tuple[Any, ...]]) -> None:
        self.view.append(prepared)
