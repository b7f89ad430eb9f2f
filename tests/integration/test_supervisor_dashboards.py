"""What supervisors read besides the overdue queue: per-unit figures and the unsatisfied queue."""

from __future__ import annotations

from datetime import timedelta

from projections import runner as r
from projections.case_view import CaseFilter
from projections.unit_stats import unit_stats
from tests.integration.helpers import STREET, register_sample, run_steps
from tests.views import views_of
from workflows import commands as c


def _refresh(app) -> None:
    for name in ("case_view", "audit_trail"):
        r.catch_up(app, views_of(app), name)


def test_unit_figures_count_where_cases_are_and_who_answered(app, clock):
    answered = register_sample(app).case_id
    run_steps(app, clock, answered, until="rate")  # answered by the street, rated unsatisfied
    open_case = register_sample(app).case_id
    run_steps(app, clock, open_case, until="delegate")
    clock.advance(timedelta(days=200))  # far past the 60-day answer deadline
    _refresh(app)
    figures = {row["unit"]: row for row in unit_stats(
        r.case_view(views_of(app)), r.audit_trail(views_of(app)), clock.now())}
    street = figures[STREET]
    assert street["open"] == 1 and street["overdue"] == 1  # the delegated case, still open
    assert street["answered"] == 1 and street["answered_on_time"] == 1
    assert street["on_time_rate"] == 1.0
    assert street["measures"] == 1  # the reminder in the lifecycle's "supervise" step
    assert street["unsatisfied"] == 1  # efficiency was rated unsatisfied


def test_unsatisfied_queue_until_a_supervisor_decides(app, clock):
    confirmed, reopened = (register_sample(app).case_id for _ in range(2))
    for case_id in (confirmed, reopened):
        run_steps(app, clock, case_id, until="rate")
    r.catch_up(app, views_of(app), "case_view")
    queue = r.case_view(views_of(app))
    waiting = {row["case_id"] for row in queue.list_cases(CaseFilter(unsatisfied_pending=True))[0]}
    assert waiting == {str(confirmed), str(reopened)}

    clock.advance(timedelta(hours=1))
    app.execute(c.ConfirmAnswer(case_id=confirmed, actor="supervisor", reason="答复无误"))
    app.execute(c.ReopenPetition(case_id=reopened, actor="supervisor", reason="重新办理"))
    r.catch_up(app, views_of(app), "case_view")
    assert queue.list_cases(CaseFilter(unsatisfied_pending=True))[0] == []
    assert app.get_petition(reopened).status.value == "in_handling"


def _scanned(cases, trail, now, units=None):
    """The figures as they were computed before the GROUP BYs: every case row and every
    measure's payload read into Python (the reference the SQL must match)."""
    import json
    from collections import defaultdict

    from projections.unit_stats import CHASED, CLOSED

    wanted = set(units) if units is not None else None
    stats = defaultdict(lambda: {"open": 0, "overdue": 0, "answered": 0, "answered_on_time": 0,
                                 "measures": 0, "escalated_away": 0, "unsatisfied": 0})
    for row in cases.query(
            f"SELECT responsible_unit, status, deadline_kind, deadline_expires_at, answered_by, "
            f"answered_on_time, unsatisfied_pending FROM {cases.table('case_view')}"):
        s = stats[row["responsible_unit"]]
        if row["status"] not in CLOSED:
            s["open"] += 1
            expires = cases.decode_time(row["deadline_expires_at"])
            if row["deadline_kind"] in CHASED and expires is not None and expires <= now:
                s["overdue"] += 1
        if row["answered_on_time"] is not None and row["answered_by"]:
            answered = stats[row["answered_by"]]
            answered["answered"] += 1
            answered["answered_on_time"] += row["answered_on_time"]
            answered["unsatisfied"] += row["unsatisfied_pending"]
    for kind, field, figure in (("SupervisionIssued", "unit", "measures"),
                                ("Escalated", "from_unit", "escalated_away")):
        for row in trail.query(f"SELECT payload FROM {trail.table('audit_trail')} "
                               "WHERE type = ?", (kind,)):
            stats[json.loads(row["payload"])[field]][figure] += 1
    out = []
    for unit, s in sorted(stats.items()):
        if wanted is None or unit in wanted:
            rate = s["answered_on_time"] / s["answered"] if s["answered"] else None
            out.append({"unit": unit, **s,
                        "on_time_rate": None if rate is None else round(rate, 3)})
    return out


def test_unit_figures_in_sql_equal_the_old_scan_on_random_rows(app, clock):
    import json
    import random
    import uuid

    from projections.case_view import COLUMNS
    from projections.unit_stats import CHASED, CLOSED

    views = views_of(app)
    cases, trail = r.case_view(views), r.audit_trail(views)
    units = [f"U{n}" for n in range(7)]
    statuses = [*sorted(CLOSED), "registered", "accepted", "in_handling", "answered"]
    kinds = [*sorted(CHASED), "answer", "accept", None]
    now = clock.now()
    position = 0
    for seed in range(4):
        rng = random.Random(seed)
        rows = []
        for _ in range(rng.randint(0, 150)):
            position += 1
            row = dict.fromkeys(COLUMNS)
            near = now + timedelta(minutes=rng.choice([-600, -1, 0, 1, 600]),
                                   microseconds=rng.choice([0, 1, 999_999]))
            row.update(case_id=str(uuid.uuid4()), status=rng.choice(statuses),
                       responsible_unit=rng.choice(units), holder=rng.choice(units),
                       registered_at=now - timedelta(days=rng.randint(0, 90)), version=1,
                       position=position, unsatisfied_pending=rng.randint(0, 1),
                       deadline_kind=rng.choice(kinds),
                       deadline_expires_at=rng.choice([None, near]),
                       answered_by=rng.choice([None, "", *units]),
                       answered_on_time=rng.choice([None, 0, 1]))
            rows.append(row)
        cases.save(rows)
        with trail.batch() as c:
            for n in range(rng.randint(0, 40)):
                position += 1
                kind = rng.choice(["SupervisionIssued", "Escalated", "Answered"])
                payload = {"unit": rng.choice(units), "from_unit": rng.choice(units),
                           "level": "reminder"}
                trail.execute(c, f"INSERT INTO {trail.table('audit_trail')} (case_id, version, "
                                 "position, type, at, recorded_at, actor, payload, prev_hash, "
                                 "entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              (str(uuid.uuid4()), n + 1, position, kind,
                               trail.encode_time(now), trail.encode_time(now), "x",
                               json.dumps(payload), "", ""))
        for reach in (None, units[:3], [], ["U9"]):
            assert unit_stats(cases, trail, now, reach) == _scanned(cases, trail, now, reach), \
                (seed, reach)


def _indexes(view) -> set[str]:
    if view.dialect == "sqlite":
        rows = view.query("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {row["name"] for row in rows}
    schema = view.table("case_view").split(".")[0].strip('"')
    return {row["indexname"] for row in view.query(
        "SELECT indexname FROM pg_indexes WHERE schemaname = ?", (schema,))}


def test_a_view_of_the_version_before_gains_the_indexes_in_place(app, clock):
    """Case view 4 → 5 and audit trail 2 → 3 only add indexes: an existing view keeps its
    rows and position (no rebuild from the log) and the GROUP BYs read the new indexes."""
    answered = register_sample(app).case_id
    run_steps(app, clock, answered, until="rate")
    _refresh(app)
    views = views_of(app)
    cases, trail = r.case_view(views), r.audit_trail(views)
    added = {"case_view_unit_figures", "case_view_answered_by", "audit_trail_type"}
    assert added <= _indexes(cases)
    before = (cases.max_tracking_id(app.name), trail.max_tracking_id(app.name),
              unit_stats(cases, trail, clock.now()))
    with cases.batch() as c:  # as a store written by the release before left them
        for name in sorted(added):
            schema = "" if cases.dialect == "sqlite" else cases.table("x").rsplit(".", 1)[0] + "."
            cases.execute(c, f"DROP INDEX {schema}{name}")
        for name, version in (("case_view", 4), ("audit_trail", 2)):
            cases.execute(c, f"UPDATE {cases.table('view_versions')} SET version = ? "
                             "WHERE name = ?", (version, name))
    assert not added & _indexes(cases)
    reopened = views.open("case_view"), views.open("audit_trail")
    assert added <= _indexes(cases)
    assert (reopened[0].max_tracking_id(app.name), reopened[1].max_tracking_id(app.name),
            unit_stats(*reopened, clock.now())) == before
    if cases.dialect == "sqlite":
        plan = " ".join(str(dict(row)) for row in cases.query(
            f"EXPLAIN QUERY PLAN SELECT answered_by, COUNT(*) FROM {cases.table('case_view')} "
            "WHERE answered_by IS NOT NULL AND answered_by <> '' "
            "AND answered_on_time IS NOT NULL GROUP BY answered_by"))
        assert "case_view_answered_by" in plan
        plan = " ".join(str(dict(row)) for row in cases.query(
            "EXPLAIN QUERY PLAN SELECT responsible_unit, SUM(CASE WHEN status NOT IN ('closed') "
            "THEN 1 ELSE 0 END) FROM " + cases.table("case_view") +
            " GROUP BY responsible_unit"))
        assert "COVERING INDEX case_view_unit_figures" in plan
