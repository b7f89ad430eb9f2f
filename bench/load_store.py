"""The large stores of figures 12 and 13: N cases on PostgreSQL, consistent in the event store
and in every view the load test's routes read, generated in minutes instead of hours.

Registering 1M cases through commands would take hours on the shared 2-core machine. Instead:

1. **Templates** — ``templates`` real cases go through the application's commands under a
   manual clock, spread over the two years before now, over two districts and their streets, in
   five states (registered; accepted and delegated; answered twice over; answered and rated).
   Each has its query code and its query-code index, and the views are caught up on them.
2. **Clones** — each template is then copied ``N / templates - 1`` times *inside PostgreSQL*
   (``INSERT … SELECT … generate_series``) under a new case id derived from the template's:
   its stored events (the library stores the originator id beside the encrypted state, not
   in it, so a clone's events decrypt and replay to the template's case under the new id),
   and its rows in ``case_view``, ``supervision_queue`` and ``analysis_facts`` (the analysis
   view's per-period roll-ups are then rebuilt from every fact row by its documented bulk path,
   ``AnalysisView.rebuild_rollups``: ~20 min at 1M on the loaded machine). A clone's
   query-code hash and petitioner key are made distinct (so no lookup meets thousands of
   duplicates), and each view's position is set to the end of the log, as if it had projected
   the clones itself. The clones have no query code of their own (followed cases are the
   templates) and no rows in the audit trail (no route under test reads it); the trail's
   position is moved to the end of the log all the same, or ``petition worker views`` would
   spend the load test writing the copies' trail (3.4M events at 1M cases).

The store then reads like N cases registered over two years: a month holds N/24 cases, so the
analytics of a month read 100 times as many rows at 1M as at 10k.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg

from adapters.persistence.views import ViewStore
from bench.common import Place
from projections import runner as r
from workflows import commands as c
from workflows.clock import ManualClock

SPAN = timedelta(days=720)
LAST = timedelta(days=14)
PLACES = [("QH-D01", "QH-D01-S01"), ("QH-D01", "QH-D01-S02"), ("QH-D02", "QH-D02-S01")]
CLONED = {"case_view": {"query_code_hash": "md5(query_code_hash || ':' || g)"},
          "supervision_queue": {},
          "analysis_facts": {"petitioner_key": "md5(coalesce(petitioner_key, '') || ':' || g)"}}
"""The views the load test's routes read, each with the columns a clone changes besides its id."""
ROLLUPS = ("analysis_rollup", "analysis_rollup_days")  # rebuilt from the facts, copies included


@dataclass
class Store:
    """What a generated store holds, as the load test needs it."""

    place: Place
    cases: int
    case_ids: list[str] = field(default_factory=list)  # templates and a sample of clones
    codes: list[str] = field(default_factory=list)  # query codes of every template
    rate_codes: list[str] = field(default_factory=list)  # answered, not yet rated
    period: str = ""  # a month full of cases, for the analytics routes


def id_number(n: int) -> str:
    first17 = f"110105{19500101 + n // 1000:08d}{n % 1000:03d}"
    return first17 + c.id_number_check_char(first17)


def register(n: int, district: str, street: str, who: int) -> c.RegisterPetition:
    return c.RegisterPetition(
        actor="bench", channel="online" if n % 3 == 0 else "letter",
        subject=f"路灯不亮 {n}", content=f"第 {n} 号:路灯坏了两个月,夜里看不清路。",
        category=["城建", "环保", "交通"][n % 3],
        location=c.LocationIn(district=district, street=street), received_by=district,
        petitioner=c.PetitionerIn(name="王小明", id_number=id_number(who), phone="13800000000"))


def make_templates(place: Place, templates: int, now: datetime, store: Store,
                   tick: Callable[[], None] = lambda: None) -> list[UUID]:
    """``templates`` real cases through the commands, registered evenly over ``SPAN`` up to
    ``LAST`` before ``now`` (so that every step, the latest 12 days after registration, lies in
    the server's past: a rating before the answer's time would be refused); returns their ids."""
    clock = ManualClock(now - SPAN)
    app = place.app(clock=clock)
    ids = []
    try:
        for i in range(templates):
            start = now - SPAN + (SPAN - LAST) * i / templates
            clock.set(start)
            district, street = PLACES[i % len(PLACES)]
            result = app.register(register(i, district, street, i))
            cid, state = result.case_id, i % 5
            ids.append(cid)
            store.codes.append(result.query_code)
            if state >= 1:
                clock.set(start + timedelta(hours=20))
                app.execute(c.AcceptPetition(case_id=cid, actor="intake", handling_track="claim",
                                             speed_track="general"))
                app.execute(c.DelegatePetition(case_id=cid, actor="dispatcher", unit=street,
                                               note="请核实"))
            if state >= 2:
                clock.set(start + timedelta(days=9))
                app.execute(c.AnswerPetition(case_id=cid, actor="handler", unit=street,
                                             answer="已维修,请查收。"))
                if state < 4:
                    store.rate_codes.append(result.query_code)
            if state == 4:
                clock.set(start + timedelta(days=12))
                app.execute(c.RatePetition(case_id=cid, actor="petitioner",
                                           attitude=["satisfied", "unsatisfied"][i % 2],
                                           efficiency="satisfied", quality="basically_satisfied",
                                           comment="谢谢"))
            tick()
        views = ViewStore.beside(app)
        for name in r.READ_MODELS:
            r.catch_up(app, views, name)
    finally:
        app.close()
    return ids


def clone(place: Place, template_ids: list[UUID], copies: int) -> None:
    """Each template ``copies`` times over, in the event store and the views of ``CLONED``."""
    schema = f'"{place.schema}"'
    new_id = "md5({col}::text || ':' || g)::uuid"
    with psycopg.connect(place.run.url, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE templates (id uuid PRIMARY KEY)")
        with conn.cursor().copy("COPY templates (id) FROM STDIN") as copy:
            for cid in template_ids:
                copy.write_row((cid,))
        conn.execute(
            f"INSERT INTO {schema}.petitions_events (originator_id, originator_version, topic, state) "
            f"SELECT {new_id.format(col='e.originator_id')}, e.originator_version, e.topic, e.state "
            f"FROM {schema}.petitions_events e JOIN templates t ON t.id = e.originator_id "
            "CROSS JOIN generate_series(1, %s) g ORDER BY g, e.notification_id", (copies,))
        end = conn.execute(f"SELECT max(notification_id) FROM {schema}.petitions_events"
                           ).fetchone()[0]  # type: ignore[index]
        for table, changed in CLONED.items():
            columns = [row[0] for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s ORDER BY ordinal_position", (place.schema, table))]
            values = {col: f"v.{col}" for col in columns}
            values.update({col: expr.replace(col, f"v.{col}") for col, expr in changed.items()})
            values["case_id"] = new_id.format(col="v.case_id") + "::text"
            conn.execute(
                f"INSERT INTO {schema}.{table} ({', '.join(columns)}) "
                f"SELECT {', '.join(values[col] for col in columns)} FROM {schema}.{table} v "
                "JOIN templates t ON t.id::text = v.case_id "
                "CROSS JOIN generate_series(1, %s) g", (copies,))
            conn.execute(f"UPDATE {schema}.{table}_tracking SET notification_id = %s", (end,))
        conn.execute(f"UPDATE {schema}.audit_trail_tracking SET notification_id = %s", (end,))
    app = place.app()
    try:  # the copies' facts enter the roll-ups by the view's own bulk path
        r.analysis_facts(ViewStore.beside(app)).rebuild_rollups()
    finally:
        app.close()
    with psycopg.connect(place.run.url, autocommit=True) as conn:
        for table in ("petitions_events", *CLONED, *ROLLUPS):
            conn.execute(f"VACUUM ANALYZE {schema}.{table}")


def build(place: Place, cases: int, templates: int, tick: Callable[[], None] = lambda: None,
          now: datetime | None = None) -> Store:
    """A store of ``cases`` cases (rounded down to a multiple of ``templates``)."""
    now = now or datetime.now(UTC)
    store = Store(place, cases)
    ids = make_templates(place, templates, now, store, tick)
    copies = max(0, cases // templates - 1)
    if copies:
        clone(place, ids, copies)
    store.cases = templates * (copies + 1)
    sample = random.Random(7)
    store.case_ids = [str(cid) for cid in ids] + [
        str(UUID(_md5(f"{cid}:{sample.randint(1, copies)}"))) for cid in ids if copies]
    middle = now - SPAN / 2
    store.period = f"{middle.year}-{middle.month:02d}"
    return store


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()
