"""The repository reads a snapshot only for aggregates that may have one (cases, uuid4 ids);
a uuid5 natural-key aggregate is loaded from its events alone and can never be snapshotted,
so skipping its snapshot read cannot miss a snapshot."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5

import pytest
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from workflows.application import PetitionApplication
from workflows.snapshot_lookup import SnapshotAwareRepository, may_have_snapshot


class Keyed(Aggregate):
    """A natural-key aggregate like the indexes: its id is a uuid5 of the key."""

    @staticmethod
    def create_id(key: str) -> Any:
        return uuid5(NAMESPACE_URL, key)

    def __init__(self, key: str):
        self.key, self.count = key, 0

    @event("Bumped")
    def bump(self) -> None:
        self.count += 1


class Random(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @event("Bumped")
    def bump(self) -> None:
        self.count += 1


class Counting:
    """Wraps the snapshot store, counting its reads."""

    def __init__(self, store: Any):
        self.store, self.reads = store, 0

    def get(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        return self.store.get(*args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> Any:
        return self.store.put(*args, **kwargs)


@pytest.fixture
def app() -> PetitionApplication:
    application = PetitionApplication({"PERSISTENCE_MODULE": "eventsourcing.popo",
                                       "AGGREGATE_CACHE_MAXSIZE": "10"})
    assert isinstance(application.repository, SnapshotAwareRepository)
    return application


def test_a_uuid5_aggregate_loads_from_its_events_without_a_snapshot_read(app) -> None:
    snapshots = Counting(app.repository.snapshot_store)
    app.repository.snapshot_store = snapshots  # type: ignore[assignment]
    keyed = Keyed("k")
    keyed.bump()
    app.save(keyed)
    loaded = app.repository.get(Keyed.create_id("k"), version=2)  # not from the cache
    assert (loaded.key, loaded.count, loaded.version) == ("k", 1, 2)
    with pytest.raises(AggregateNotFoundError):
        app.repository.get(Keyed.create_id("missing"))
    assert snapshots.reads == 0


def test_a_uuid4_aggregate_still_loads_from_its_latest_snapshot(app) -> None:
    snapshots = Counting(app.repository.snapshot_store)
    random = Random()
    for _ in range(3):
        random.bump()
    app.save(random)
    assert random.id.version == 4 and may_have_snapshot(random.id)
    app.take_snapshot(random.id)
    app.repository.snapshot_store = snapshots  # type: ignore[assignment]
    loaded = app.repository.get(random.id, version=4)
    assert (loaded.count, loaded.version) == (3, 4)
    assert snapshots.reads == 1


def test_a_uuid5_aggregate_is_never_snapshotted(app) -> None:
    keyed = Keyed("k")
    app.save(keyed)
    with pytest.raises(ValueError, match="never snapshotted"):
        app.take_snapshot(keyed.id)
    assert app.snapshots is not None and not list(app.snapshots.get(keyed.id))


def test_the_library_settings_are_kept(app) -> None:
    assert app.repository.cache is not None and app.repository.fastforward
    assert app.repository.deepcopy_from_cache
    assert not may_have_snapshot(uuid5(NAMESPACE_URL, "x")) and may_have_snapshot(uuid4())
