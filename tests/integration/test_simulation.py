"""Three months of a synthetic district: the exact ladder of hand-checked cases, and the proof
that a simulation killed at random moments and re-run from day 0 ends with the same events.

Seed 7 starts on Monday 2026-03-02; day 0 holds one case of every profile (``d000-NN-profile``),
all accepted on 03-02 and, except the proxy's complex case, on the general track: due on
Thu 03-12, overdue from 03-13 00:00. Ticks run at every local midnight, so each measure lands
at its trigger: reminder 03-10, letter 03-13, accountability 03-23, interview 04-02,
escalation 04-12.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.settings import Settings
from adapters.synthetic.simulation import SimulationResult
from adapters.wiring import Root, build_application
from domain.supervision_ladder import RUNGS
from tests.conftest import PG_URL, _key
from workflows.application import PetitionApplication
from workflows.clock import ManualClock

CST = timezone(timedelta(hours=8))
SEED = 7
KEYS = {"PETITION_CIPHER_KEY": _key(), "PETITION_QUERY_CODE_KEY": _key()}
# One xdist worker runs this module: the ninety-day simulation (a module fixture) runs once.
pytestmark = pytest.mark.xdist_group("simulation")


def at(day: str, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.fromisoformat(f"2026-{day}T{hour:02d}:{minute:02d}:00+08:00")


def open_store(directory: Path, store: str | None = None, schema: str | None = None
               ) -> tuple[PetitionApplication, ManualClock]:
    env = {**KEYS, "PETITION_STORE": store or str(directory / "petitions.db"),
           "PETITION_DATA_DIR": str(directory)}
    if schema:
        env["PETITION_POSTGRES_SCHEMA"] = schema
    clock = ManualClock(at("03-02"))
    return build_application(Settings.from_env(env), clock=clock), clock


def simulate(app: PetitionApplication, clock: ManualClock, days: int, cases_per_day: int,
             seed: int = SEED) -> SimulationResult:
    root = Root(Settings.from_env({}), clock=clock, app=app)
    return root.simulation(clock, seed=seed, cases_per_day=cases_per_day).run(days)


@pytest.fixture(scope="module")
def ninety_days(tmp_path_factory) -> SimulationResult:
    app, clock = open_store(tmp_path_factory.mktemp("ninety"))
    try:
        return simulate(app, clock, days=90, cases_per_day=3)
    finally:
        app.close()


# ---------------------------------------------------------------------- hand-checked cases
HAND_CHECKED = {
    "d000-00-prompt": [],  # simple track, answered two hours after acceptance
    "d000-01-late": [("answer.reminder", at("03-10")), ("answer.supervision_letter", at("03-13"))],
    "d000-02-very_late": [("answer.reminder", at("03-10")),
                          ("answer.supervision_letter", at("03-13")),
                          ("answer.accountability", at("03-23")),
                          ("answer.interview", at("04-02")),
                          ("answer.escalation", at("04-12"))],  # and nothing at the district
    # 15 more days asked on 03-11 (after the reminder): due Fri 03-27, overdue from 03-28
    "d000-03-extended": [("answer.reminder", at("03-10")),
                         ("answer.supervision_letter", at("03-28"))],
    # the same ladder; the district answers on 04-14, two days after the escalation
    "d000-04-escalated": [("answer.reminder", at("03-10")),
                          ("answer.supervision_letter", at("03-13")),
                          ("answer.accountability", at("03-23")),
                          ("answer.interview", at("04-02")),
                          ("answer.escalation", at("04-12"))],
    # answered late 03-14, unsatisfied 03-15, reopened 03-16: due Thu 03-26, answered on it
    "d000-05-unsatisfied": [("answer.reminder", at("03-10")),
                            ("answer.supervision_letter", at("03-13")),
                            ("answer.reminder", at("03-24"))],
    "d000-06-proxy_silent": [],  # complex track, answered on 04-01: the ladder never starts
}


@pytest.mark.parametrize("case", HAND_CHECKED)
def test_hand_checked_ladders(ninety_days, case):
    assert ninety_days.measures_of(case) == HAND_CHECKED[case]


def test_every_rung_goes_to_the_street_that_owes_the_answer(ninety_days):
    units = {m.unit for m in ninety_days.measures if m.case == "d000-02-very_late"}
    assert len(units) == 1 and units.pop().count("-S") == 1  # a street, never its district


def test_the_silent_proxy_is_reported_for_two_weeks(ninety_days):
    (silence,) = [s for s in ninety_days.silences if s.case == "d000-06-proxy_silent"]
    assert (silence.last_contact, silence.overdue_at, silence.until) == (
        at("03-09", 16, 30), at("03-17"), at("03-24", 16, 30))
    assert silence.days_silent == 15
    assert {s.case.split("-")[-1] for s in ninety_days.silences} == {"proxy_silent"}


def test_sanity_totals(ninety_days):
    r = ninety_days
    assert r.refused == []
    assert len(r.cases) == 7 + 3 + 89 * 3  # the showcase, then three a day
    assert len(set(r.measures)) == len(r.measures)
    per_case = Counter((m.case, m.rule) for m in r.measures)
    # a rung twice only for a case reopened after an unsatisfied rating (a new obligation)
    assert {case for (case, _), n in per_case.items() if n > 1} <= {
        c for c in r.cases if c.endswith("unsatisfied")}
    assert not any(m.case.endswith("prompt") and not m.rule.endswith("reminder")
                   for m in r.measures), "prompt units are at most reminded"
    totals = Counter(m.rule.split(".")[-1] for m in r.measures)
    assert [totals[rung] for rung in RUNGS] == [124, 95, 34, 23, 19]
    assert sum(map(sum, (row.values() for row in r.ladder_by_unit().values()))) == len(r.measures)


# ---------------------------------------------------------------------- the kill test
KILL_DAYS, KILL_CASES, KILL_SEED = 40, 3, 11
SIMULATE = [sys.executable, "-c", "from adapters.cli.simulate_command import main; main()",
            "--days", str(KILL_DAYS), "--cases-per-day", str(KILL_CASES),
            "--seed", str(KILL_SEED), "--json"]


def case_events(app: PetitionApplication, case_id: UUID | str) -> list[tuple[Any, ...]]:
    """Every event of the case without its id and recorded time: type, version, at, actor, data."""
    out = []
    for e in app.events_of(UUID(str(case_id))):
        data = {k: v for k, v in vars(e).items() if k not in ("originator_id", "timestamp")}
        out.append((type(e).__name__, data.pop("originator_version"), data.pop("at"),
                    data.pop("actor"), sorted(data.items(), key=lambda kv: kv[0])))
    return out


def log_length(app: PetitionApplication) -> int:
    return len(app.recorder.select_notifications(start=None, limit=10**9))


def _kill_when_log_reaches(run: subprocess.Popen[bytes], store_dir: Path, target: int) -> None:
    """SIGKILLs the run as soon as its event log holds ``target`` events (or after 120 s)."""
    deadline = time.monotonic() + 120
    while run.poll() is None and time.monotonic() < deadline:
        if (store_dir / "petitions.db").exists():
            store, _ = open_store(store_dir)
            try:
                if log_length(store) >= target:
                    break
            finally:
                store.close()
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)


def test_killed_at_random_and_rerun_gives_the_same_events(tmp_path):
    killed_dir, clean_dir = tmp_path / "killed", tmp_path / "clean"
    clean, clock = open_store(clean_dir)
    try:
        expected = simulate(clean, clock, KILL_DAYS, KILL_CASES, seed=KILL_SEED)
        final = log_length(clean)
        clean_events = {name: case_events(clean, case_id)
                        for name, case_id in expected.cases.items()}
    finally:
        clean.close()

    env = {**os.environ, **KEYS, "PETITION_STORE": str(killed_dir / "petitions.db"),
           "PETITION_DATA_DIR": str(killed_dir), "PETITION_LOG_FORMAT": "json"}
    moments = random.Random(2026)
    kills = []  # the log's length after each SIGKILL, at random points of the run
    for _ in range(4):
        target = (kills[-1] if kills else 0) + moments.uniform(0.1, 0.3) * final
        run = subprocess.Popen(SIMULATE, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
        _kill_when_log_reaches(run, killed_dir, int(target))
        _, err = run.communicate()
        assert run.returncode in (-signal.SIGKILL, 0), err.decode()
        store, _ = open_store(killed_dir)
        kills.append(log_length(store))
        store.close()
    done = subprocess.run(SIMULATE, env=env, capture_output=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)

    killed, _ = open_store(killed_dir)
    try:
        assert sum(0 < n < final for n in kills) >= 2, f"kills must land mid-run: {kills}"
        assert sorted(report["cases"]) == sorted(expected.cases)
        assert report["measures"] == [
            {"case": m.case, "unit": m.unit, "rule": m.rule, "at": m.at.isoformat()}
            for m in expected.measures]
        for name in expected.cases:
            assert case_events(killed, report["cases"][name]) == clean_events[name], name
        assert log_length(killed) == final  # nothing twice, nothing else
    finally:
        killed.close()


# ---------------------------------------------------------------------- PostgreSQL
def test_a_short_run_is_the_same_on_postgres_and_sqlite(pg_schema, tmp_path):
    pg, pg_clock = open_store(tmp_path / "pg", store=PG_URL, schema=pg_schema)
    lite, lite_clock = open_store(tmp_path / "lite")
    try:
        on_pg = simulate(pg, pg_clock, days=20, cases_per_day=2)
        on_lite = simulate(lite, lite_clock, days=20, cases_per_day=2)
        assert on_pg.refused == []
        assert on_pg.measures_of("d000-02-very_late") == HAND_CHECKED["d000-02-very_late"][:2]
        assert [(m.case, m.unit, m.rule, m.at) for m in on_pg.measures] == [
            (m.case, m.unit, m.rule, m.at) for m in on_lite.measures]
        before = log_length(pg)
        again = simulate(pg, pg_clock, days=20, cases_per_day=2)  # a rerun from day 0
        assert log_length(pg) == before
        assert again.cases == on_pg.cases and again.measures == on_pg.measures
    finally:
        pg.close()
        lite.close()
