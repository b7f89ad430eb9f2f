"""Figure 3: projection catch-up of N events against a raw batched INSERT of the same rows.

The N events are real petition events (register → accept → delegate → answer → rate), made by
the aggregate and encrypted by the application's mapper, but recorded in bulk (1,000 per
insert) so the set-up does not dominate the run. Cases advance in waves of 1,000, so a case's
events are ~1,000 positions apart, as with many cases in flight; the projections' case cache
holds 2,000. Each case has a petitioner of its own (as figure 1): the analysis view reads a
new case's petitioner's other cases of the year around it (the repeat-petition flag).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

from adapters.persistence.views import ViewStore
from bench import baselines as b
from bench.common import DISTRICT, NOW, STREET, Figure, Run, id_number
from domain.petition import Petition
from domain.values import Location, Petitioner
from projections import runner as r

Tick = Callable[[int], None]
WAVE = 1000
SMALL_BATCH = 500


def record_events(app, events: int, tick: Tick) -> int:
    at = NOW - timedelta(days=60)
    steps = [
        lambda p: p.accept(at=at, actor="intake", handling_track="claim", speed_track="general"),
        lambda p: p.delegate(at=at, actor="dispatcher", unit=STREET, mode="assign", note="n",
                             org=app.org),
        lambda p: p.answer_petition(at=at, actor="handler", unit=STREET, answer="已维修。"),
        lambda p: p.rate(at=at, actor="petitioner", attitude="satisfied",
                         efficiency="satisfied", quality="satisfied", comment=""),
    ]
    written = 0
    while written < events:
        wave = min(WAVE, (events - written + 4) // 5)
        cases = [Petition.register(
            case_id=uuid4(), at=at, actor="bench", channel="letter", subject="s", content="c",
            category="k", location=Location(district=DISTRICT, street=STREET),
            petitioner=Petitioner("王小明", id_number(written + n), "13800000000"),
            co_petitioners=0, received_by=DISTRICT, proxy_agent=None, query_code_hash="h",
            org=app.org) for n in range(wave)]
        for step in [None, *steps]:
            batch = []
            for case in cases:
                if step is not None:
                    step(case)
                batch.extend(case.collect_events())
            batch = batch[:events - written]
            if not batch:
                break
            app.events.put(batch)
            written += len(batch)
            tick(len(batch))
    return written


def catch_up(run: Run, events: int, tick: Tick) -> Figure:
    place = run.place("postgres", "catchup")
    app = place.app()
    try:
        total = record_events(app, events, tick)
        views = ViewStore.beside(app)
        rates = {}
        for name in ("case_view", "supervision_queue", "audit_trail", "analysis_facts"):
            t0 = time.perf_counter()
            applied = r.catch_up(app, views, name)
            rates[name] = applied / (time.perf_counter() - t0)
        # the live runner's batch size, where no batch holds two events of one case
        view = views.open("case_view")
        t0 = time.perf_counter()
        small = r.rebuild(app, views, "case_view", batch_size=SMALL_BATCH) / (time.perf_counter() - t0)
        view.datastore.close()
        raw = b.raw_inserts(place, total, batch=r.CATCH_UP_BATCH)
        raw_small = b.raw_inserts(place, total, batch=SMALL_BATCH)
    finally:
        app.close()
    slowest = min(rates.values())
    ratio = slowest / raw
    return Figure(3, f"catch-up of {total:,} events (slowest view)", slowest, "events/s",
                  f"raw batched INSERT ({r.CATCH_UP_BATCH}/tx)", raw, "≥ 0.25×", ratio >= 0.25,
                  detail={"events": total, "batch": r.CATCH_UP_BATCH,
                          **{f"{k}_events_per_s": v for k, v in rates.items()},
                          "all_views_events_per_s": 1 / sum(1 / v for v in rates.values()),
                          f"case_view_batch_{SMALL_BATCH}_events_per_s": small,
                          f"raw_batch_{SMALL_BATCH}_rows_per_s": raw_small,
                          f"ratio_batch_{SMALL_BATCH}": small / raw_small})
