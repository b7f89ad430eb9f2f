"""Where the online filing keeps its drafts (a form waiting for its phone code) and counts its
abuse limits: in the store for every process (``stored_filing``), or in this process's bounded
memory (``memory_filing``, for an in-memory store, one process).

In the store only keyed hashes of the draft's id, the code, the phone, the ID number and the
client's address are kept, and the draft itself is sealed with the store's cipher (it holds
the petitioner's name, ID number and phone).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from threading import Lock
from typing import Any, Protocol

from adapters.pages.bounded import BoundedMap, Limit
from domain.values import Attachment
from workflows.commands import RegisterPetition

CODE_TTL = 10 * 60
CAPACITY = 10_000


@dataclass
class Draft:
    session_id: str
    command: RegisterPetition
    code_hash: str
    tries: int = 0
    values: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()

    def __repr__(self) -> str:
        return "Draft(<redacted>)"


class Drafts(Protocol):
    def put(self, draft_id: str, draft: Draft) -> None: ...
    def get(self, draft_id: str) -> Draft | None: ...
    def fail(self, draft_id: str) -> int | None: ...
    def take(self, draft_id: str) -> Draft | None: ...


class Allowance(Protocol):
    def allow(self, key: str) -> bool: ...


@dataclass(frozen=True)
class FilingStore:
    """The drafts, the limits' counters and the keyed hash the filing uses."""

    drafts: Drafts
    limit: Callable[[str, int, float], Allowance]  # (name, per window, window seconds)
    key: Callable[[str, str], str]  # (scope, value) -> keyed hash


class MemoryDrafts:
    def __init__(self, capacity: int = CAPACITY, ttl: float = CODE_TTL):
        self._drafts: BoundedMap[Draft] = BoundedMap(capacity, ttl)
        self._lock = Lock()

    def put(self, draft_id: str, draft: Draft) -> None:
        self._drafts.put(draft_id, draft)

    def get(self, draft_id: str) -> Draft | None:
        return self._drafts.get(draft_id)

    def fail(self, draft_id: str) -> int | None:
        with self._lock:
            draft = self._drafts.get(draft_id)
            if draft is None:
                return None
            draft.tries += 1
            return draft.tries

    def take(self, draft_id: str) -> Draft | None:
        return self._drafts.pop(draft_id)


def memory_filing(capacity: int = CAPACITY) -> FilingStore:
    secret = secrets.token_bytes(32)

    def key(scope: str, value: str) -> str:
        return hmac.new(secret, f"{scope}\x00{value}".encode(), hashlib.sha256).hexdigest()

    return FilingStore(MemoryDrafts(capacity),
                       lambda _, per, window: Limit(per, window, capacity * 10), key)


class StoredDrafts:
    """Drafts in the store (adapters/persistence/shared_drafts.py), sealed."""

    def __init__(self, shared: Any, hide: Callable[[str, str], str],
                 seal: Callable[[bytes], bytes], unseal: Callable[[bytes], bytes]):
        self.shared, self.hide, self.seal, self.unseal = shared, hide, seal, unseal

    def put(self, draft_id: str, draft: Draft) -> None:
        content = {"session": draft.session_id, "command": draft.command.model_dump(mode="json"),
                   "code": draft.code_hash, "values": draft.values,
                   "attachments": [asdict(a) for a in draft.attachments]}
        sealed = base64.b64encode(self.seal(json.dumps(content).encode())).decode()
        self.shared.put(self.hide("draft", draft_id), sealed)

    def get(self, draft_id: str) -> Draft | None:
        found = self.shared.get(self.hide("draft", draft_id))
        return None if found is None else self._draft(found[1], tries=found[0])

    def fail(self, draft_id: str) -> int | None:
        tries: int | None = self.shared.fail(self.hide("draft", draft_id))
        return tries

    def take(self, draft_id: str) -> Draft | None:
        body = self.shared.take(self.hide("draft", draft_id))
        return None if body is None else self._draft(body, tries=0)

    def _draft(self, body: str, *, tries: int) -> Draft:
        content = json.loads(self.unseal(base64.b64decode(body)))
        return Draft(content["session"], RegisterPetition.model_validate(content["command"]),
                     content["code"], tries, dict(content["values"]),
                     tuple(Attachment(**a) for a in content["attachments"]))


class SharedLimit:
    """At most ``per`` hits per key in fixed windows of ``window`` seconds, counted in the
    store for every process (adapters/persistence/shared_counters.py)."""

    def __init__(self, counters: Any, name: str, per: int, window: float,
                 hide: Callable[[str, str], str]):
        self.counters, self.name, self.per, self.window, self.hide = (
            counters, name, per, window, hide)

    def allow(self, key: str) -> bool:
        (hits, _), _ = self.counters.count(self.window, add=self.hide("limit",
                                                                       f"{self.name}\x00{key}"))
        return bool(hits <= self.per)


def stored_filing(shared: Any, counters: Any, hide: Callable[[str, str], str],
                  seal: Callable[[bytes], bytes], unseal: Callable[[bytes], bytes]
                  ) -> FilingStore:
    return FilingStore(StoredDrafts(shared, hide, seal, unseal),
                       lambda name, per, window: SharedLimit(counters, name, per, window, hide),
                       lambda scope, value: hide(f"filing-{scope}", value))
