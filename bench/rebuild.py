"""Figure 10: every view rebuilt from N events (1M in the full run), against a raw batched
INSERT of event-sized rows in the same run.

The events are recorded as for figure 3 (real, encrypted, in waves of 1,000 cases). Each view
is rebuilt as ``petition projections rebuild --all`` does it (``runner.rebuild``: batches of
5,000, each committed with the view's position, so a killed rebuild resumes with
``--resume``). The figure is the log's events over the whole time of all views.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters.persistence.views import ViewStore
from bench import baselines as b
from bench.catch_up import record_events
from bench.common import Figure, Run
from projections import runner as r

RAW_ROWS_MAX = 200_000  # the baseline is a rate: this many rows measure it well enough


def rebuild_all(run: Run, events: int, tick: Callable[[int], None]) -> Figure:
    place = run.place("postgres", "rebuild")
    app = place.app()
    try:
        total = record_events(app, events, lambda n: None)
        seconds: dict[str, float] = {}
        views = ViewStore.beside(app)
        for name in r.READ_MODELS:
            t0 = time.perf_counter()
            r.rebuild(app, views, name)
            seconds[name] = time.perf_counter() - t0
            tick(1)
        raw = b.raw_inserts(place, min(total, RAW_ROWS_MAX), batch=r.CATCH_UP_BATCH)
    finally:
        app.close()
    elapsed = sum(seconds.values())
    rate = total / elapsed
    return Figure(10, f"rebuild of all {len(seconds)} views from {total:,} events "
                      f"({elapsed:,.0f} s)", rate, "events/s",
                  f"raw batched INSERT ({r.CATCH_UP_BATCH}/tx)", raw, "reported", None,
                  detail={"events": total, "seconds": elapsed,
                          **{f"{k}_seconds": v for k, v in seconds.items()},
                          **{f"{k}_events_per_s": total / v for k, v in seconds.items()}})
