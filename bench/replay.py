"""Figure 5: loading a case of 1,000 events, the engine (from its latest snapshot) against a
bare eventsourcing aggregate of 1,000 events replayed without snapshots, on PostgreSQL.

The engine's case is register → accept → assign a proxy → 997 logged proxy contacts, saved
through ``PetitionApplication.save`` 50 events at a time, so its snapshots (every 50th version,
``snapshotting_intervals``) are taken exactly as in production.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

from bench import baselines as b
from bench.common import DISTRICT, NOW, STREET, Figure, Run
from domain.petition import Petition
from domain.values import Location, Petitioner, ProxyForm

CHUNK = 50


def _median_ms(load: Callable[[], Any], repeats: int) -> float:
    load()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        load()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def _long_case(app: Any, events: int) -> Petition:
    at = NOW - timedelta(days=80)
    p = Petition.register(
        case_id=uuid4(), at=at, actor="bench", channel="letter", subject="s", content="c",
        category="k", location=Location(district=DISTRICT, street=STREET),
        petitioner=Petitioner("王小明", "11010519491231002X", "13800000000"), co_petitioners=0,
        received_by=DISTRICT, proxy_agent=None, query_code_hash="h", org=app.org)
    p.accept(at=at, actor="intake", handling_track="claim", speed_track="general")
    p.entrust(at=at, actor="intake", agent="agent-9", form=ProxyForm.ENTRUSTED,
              grid=STREET + "-C01-G01", scope=["follow"], valid_until=NOW + timedelta(days=365),
              org=app.org)  # 委托书 first: a proxy service starts under an entrustment
    p.assign_proxy(at=at, actor="intake", agent="agent-9")
    while p.version < events:
        at += timedelta(minutes=1)
        p.log_proxy_contact(at=at, actor="agent-9", agent="agent-9", mode="phone", note="n")
        if len(p._pending_events) >= CHUNK:
            app.save(p)
    app.save(p)
    return p


def replay(run: Run, events: int, repeats: int) -> Figure:
    place = run.place("postgres", "replay")
    app = place.app()
    bare = b.BareApplication(place.library_env())
    try:
        case = _long_case(app, events)
        bare_case = b.Case(subject="s")
        while bare_case.version < events:
            bare_case.accept("claim")
            if len(bare_case._pending_events) >= CHUNK:
                bare.save(bare_case)
        bare.save(bare_case)
        engine = _median_ms(lambda: app.get_petition(case.id), repeats)
        baseline = _median_ms(lambda: bare.repository.get(bare_case.id), repeats)
        no_snapshot = _median_ms(lambda: _fold(app, case.id), max(3, repeats // 4))
        assert app.get_petition(case.id).version == events
    finally:
        app.close()
        bare.close()
    ratio = engine / baseline
    return Figure(5, f"load a {events:,}-event case (snapshots)", engine, "ms",
                  f"bare eventsourcing replay of {events:,}", baseline, "≤ 0.2×", ratio <= 0.2,
                  detail={"engine_without_snapshots_ms": no_snapshot,
                          "snapshot_interval": CHUNK})


def _fold(app: Any, case_id: Any) -> Any:
    aggregate = None
    for event in app.events.get(case_id):
        aggregate = event.mutate(aggregate)
    return aggregate
