"""The generated store of figures 12-13 (bench/load_store.py) is consistent: a clone of a
template case replays, under its own id, to the template's case, and its view rows agree."""

from __future__ import annotations

from uuid import UUID

import psycopg

from bench.common import Run
from bench.load_store import CLONED, build
from tests.conftest import PG_URL, require_postgres


def test_clones_replay_to_their_template_and_fill_the_views():
    require_postgres()
    run = Run(PG_URL)
    try:
        place = run.place("postgres", "loadstore")
        store = build(place, 30, 10)
        assert store.cases == 30 and len(store.codes) == 10
        app = place.app()
        try:
            for template, copy in zip(store.case_ids[:10], store.case_ids[10:], strict=True):
                original, clone = app.get_petition(UUID(template)), app.get_petition(UUID(copy))
                assert clone.id == UUID(copy) and clone.version == original.version
                assert (clone.status, clone.subject, clone.responsible_unit, clone.received_at) \
                    == (original.status, original.subject, original.responsible_unit,
                        original.received_at)
        finally:
            app.close()
        with psycopg.connect(PG_URL) as conn:
            schema = place.schema
            end = conn.execute(f'SELECT max(notification_id) FROM "{schema}".petitions_events'
                               ).fetchone()[0]
            for table in (*CLONED, "audit_trail"):
                assert conn.execute(f'SELECT notification_id FROM "{schema}".{table}_tracking'
                                    ).fetchone()[0] == end, table
            for table in CLONED:
                rows, distinct = conn.execute(
                    f'SELECT count(*), count(DISTINCT case_id) FROM "{schema}".{table}').fetchone()
                assert rows % 3 == 0 and distinct <= 30, table
            registered = conn.execute(
                f"SELECT sum(n) FROM \"{schema}\".analysis_rollup WHERE cohort = 'received' "
                "AND grain = 'm'").fetchone()[0]
            assert registered == 30  # the copies are counted in the roll-ups
            cases, codes = conn.execute(
                f'SELECT count(*), count(DISTINCT query_code_hash) FROM "{schema}".case_view'
            ).fetchone()
            assert cases == 30 and codes == 30
    finally:
        run.close()
