"""The `petition` console script end to end, as an operator would run it, on both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from adapters.settings import Settings
from tests.subprocess_env import petition_env
from tests.views import views_of

PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, **petition_env(settings)}


def run(settings: Settings, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*PETITION, *args], env=_env(settings), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == expect, (done.returncode, done.stdout, done.stderr)
    return done


@pytest.fixture
def demo(settings: Settings) -> dict:
    return json.loads(run(settings, "demo", "--cases", "80", "--seed", "7", "--json").stdout)


def test_demo_then_history_shows_a_full_lifecycle(settings: Settings, demo: dict) -> None:
    assert demo["cases"] == 80 and demo["events"] >= 80 * 2
    assert sum(demo["by_status"].values()) == 80
    closed = demo["samples"]["closed"]
    history = json.loads(run(settings, "history", closed, "--json").stdout)
    types = [entry["type"] for entry in history]
    assert types[0] == "Registered" and types[-1] == "Closed"
    assert {"Accepted", "Delegated", "Answered"} <= set(types)
    assert [entry["version"] for entry in history] == list(range(1, len(history) + 1))
    assert all(entry["at"] and entry["recorded_at"] and entry["actor"] for entry in history)
    assert history[0]["data"]["petitioner"] == "<redacted>"
    table = run(settings, "history", closed).stdout
    assert "Registered" in table and "Closed" in table


def test_illegal_command_exits_5_and_appends_nothing(settings: Settings, demo: dict) -> None:
    closed = demo["samples"]["closed"]
    before = json.loads(run(settings, "info", "--json").stdout)["events"]
    done = run(settings, "act", closed, "answer", "unit=QH-D01", "answer=late", expect=5)
    assert done.stderr.count("\n") == 1 and "closed" in done.stderr
    assert json.loads(run(settings, "info", "--json").stdout)["events"] == before


def test_bad_input_and_unknown_case(settings: Settings, demo: dict) -> None:
    registered = demo["samples"]["registered"]
    done = run(settings, "act", registered, "accept", "handling_track=gossip",
               "speed_track=general", expect=2)
    assert "handling_track" in done.stderr
    run(settings, "show", "00000000-0000-0000-0000-000000000000", expect=4)


def test_register_from_file_then_act(settings: Settings, tmp_path: Path) -> None:
    body = {
        "actor": "intake:QH-D01", "channel": "visit", "subject": "欠薪 unpaid wages",
        "content": "工地拖欠工资三个月", "category": "labour_wages", "received_by": "QH-D01",
        "location": {"district": "QH-D01", "street": "QH-D01-S02"},
        "petitioner": {"name": "李四", "id_number": "11010519491231002X", "phone": "13800000000"},
    }
    (tmp_path / "p.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    registered = json.loads(run(settings, "register", str(tmp_path / "p.json"), "--json").stdout)
    assert len(registered["query_code"]) == 14 and registered["status"] == "registered"
    case = registered["case_id"]
    run(settings, "act", case, "accept", "handling_track=claim", "speed_track=simple")
    run(settings, "act", case, "delegate", "unit=QH-D01-S02")
    shown = json.loads(run(settings, "show", case, "--json").stdout)
    assert shown["status"] == "in_handling" and shown["responsible_unit"] == "QH-D01-S02"
    assert shown["deadline"]["kind"] == "answer"
    assert "answer" in shown["allowed_commands"]
    assert shown["petitioner"] == "<redacted>"


def test_rebuild_all_views_then_verify(settings: Settings, demo: dict) -> None:
    done = run(settings, "projections", "rebuild", "--all", "--batch-size", "37")
    assert "case_view" in done.stdout and "audit_trail" in done.stdout
    status = json.loads(run(settings, "projections", "status", "--json").stdout)
    assert {s["name"] for s in status} == {"case_view", "audit_trail", "supervision_queue",
                                              "analysis_facts"}
    assert all(s["lag"] == 0 and s["position"] == s["log_end"] > 0 for s in status)
    run(settings, "verify")  # exit 0: every chain recomputes from the stored events
    refused = run(settings, "projections", "rebuild", "case_view", "--batch-size", "0",
                  expect=2)
    assert "batch-size" in refused.stderr


def test_overdue_and_unsatisfied_print_the_shared_reads(settings: Settings, demo: dict) -> None:
    """The CLI prints what projections/queries.py returns (the HTTP API serves the same)."""
    from adapters.wiring import build_application
    from projections import queries
    from projections import runner as r

    as_of = "2030-01-01T00:00:00+08:00"  # every demo case's deadline has passed by then
    printed = json.loads(run(settings, "overdue", "--as-of", as_of, "--limit", "500",
                             "--json").stdout)
    unhappy = json.loads(run(settings, "unsatisfied", "--limit", "500", "--json").stdout)
    app = build_application(settings)
    try:
        rows, _ = queries.overdue_with_ladder(
            app, r.supervision_queue(views_of(app)), datetime.fromisoformat(as_of), limit=500)
        pending, _ = queries.unsatisfied(app.org, r.case_view(views_of(app)), limit=500)
    finally:
        app.close()
    assert printed, "the demo leaves open obligations"
    assert [(p["case_id"], p["kind"], p["rung"], p["next_rung"]) for p in printed] == [
        (str(x["case_id"]), x["kind"], x["ladder"]["rung"], x["ladder"]["next_rung"])
        for x in rows]
    assert [u["case_id"] for u in unhappy] == [str(x["case_id"]) for x in pending]


def test_trail_prints_the_read_that_history_serves(settings: Settings, demo: dict) -> None:
    """`petition trail` prints what projections/case_trail.py returns (GET …/history serves
    the same)."""
    from uuid import UUID

    from adapters.wiring import build_application
    from projections import runner as r
    from projections.case_trail import case_trail

    closed = demo["samples"]["closed"]
    printed = json.loads(run(settings, "trail", closed, "--json").stdout)
    app = build_application(settings)
    try:
        read = case_trail(app, r.audit_trail(views_of(app)), UUID(closed))
    finally:
        app.close()
    assert printed == read and printed["chain_valid"] is True and printed["findings"] == []
    entries = printed["entries"]
    assert entries[0]["type"] == "Registered" and entries[-1]["type"] == "Closed"
    assert entries[0]["payload"]["petitioner"] == "<redacted>"
    first = entries[0]["recorded_at"]
    cut = json.loads(run(settings, "trail", closed, "--as-of", first, "--json").stdout)
    assert cut["entries"] == [e for e in entries if e["recorded_at"] <= first]
    assert "chain valid" in run(settings, "trail", closed).stdout
    run(settings, "trail", "00000000-0000-0000-0000-000000000000", expect=4)


def test_cases_prints_the_list_get_petitions_serves(settings: Settings, demo: dict) -> None:
    """`petition cases` prints what projections/queries.cases returns (GET /petitions serves
    the same): every filter, the pages, intake's queue of concluded-matter flags (不再受理)."""
    from adapters.wiring import build_application
    from projections import queries
    from projections import runner as r
    from projections.case_view import CaseFilter
    from tests.integration.helpers import register_command, run_steps
    from workflows.access import Principal, Role, reach
    from workflows.clock import ManualClock

    app = build_application(settings, clock=ManualClock(datetime.now().astimezone()))
    try:  # the same matter again after its re-review (复核): registered with the flag
        first = register_command()
        earlier = app.register(first).case_id
        run_steps(app, app.clock, earlier, until="re-review-decision")  # type: ignore[arg-type]
        again = app.register(register_command(petitioner=first.petitioner.model_dump(),
                                              subject="路灯还是不亮"))
    finally:
        app.close()
    assert again.concluded_in == str(earlier)
    listed = json.loads(run(settings, "cases", "--limit", "500", "--json").stdout)
    app = build_application(settings)
    try:
        read, _ = queries.cases(r.case_view(views_of(app)), CaseFilter(), limit=500)
    finally:
        app.close()
    assert listed == {"items": read, "next_cursor": None} and len(read) == 82
    assert {k for c in read for k in c} == set(queries.CASE_ROW_FIELDS)  # no personal data
    closed = json.loads(run(settings, "cases", "--status", "closed", "--limit", "500",
                            "--json").stdout)["items"]
    assert {c["status"] for c in closed} == {"closed"}
    assert demo["samples"]["closed"] in {c["case_id"] for c in closed}
    assert [c for c in read if c["status"] == "closed"] == closed
    first = json.loads(run(settings, "cases", "--limit", "30", "--json").stdout)
    rest = json.loads(run(settings, "cases", "--limit", "500", "--cursor",
                          first["next_cursor"], "--json").stdout)
    assert first["items"] + rest["items"] == read and rest["next_cursor"] is None
    flagged = json.loads(run(settings, "cases", "--concluded-flag", "--limit", "500",
                             "--json").stdout)["items"]
    others = json.loads(run(settings, "cases", "--not-concluded-flag", "--limit", "500",
                            "--json").stdout)["items"]
    assert [(c["case_id"], c["concluded_flag"]) for c in flagged] == [
        (str(again.case_id), str(earlier))]
    assert not any(c["concluded_flag"] for c in others)
    assert sorted(c["case_id"] for c in flagged + others) == sorted(c["case_id"] for c in read)
    since = read[40]["registered_at"]
    later = json.loads(run(settings, "cases", "--registered-from", since, "--limit", "500",
                           "--json").stdout)["items"]
    assert later == [c for c in read if c["registered_at"] >= since]
    district = json.loads(run(settings, "cases", "--jurisdiction", "QH-D01", "--limit", "500",
                              "--json").stdout)["items"]
    app = build_application(settings)
    try:  # as GET /petitions?jurisdiction=QH-D01 gives an administrator
        admin = Principal(token_id="t", role=Role.ADMIN, unit="QH")
        narrowed, _ = queries.cases(r.case_view(views_of(app)), CaseFilter(
            reach=reach(admin, app.org, narrowed_to="QH-D01")), limit=500)
    finally:
        app.close()
    assert district == narrowed and 0 < len(district) < len(read)
    table = run(settings, "cases", "--status", "closed").stdout
    assert demo["samples"]["closed"][:8] in table
    assert run(settings, "cases", "--cursor", "nonsense", expect=2).stdout == ""
    run(settings, "cases", "--registered-from", "next tuesday", expect=2)
    unknown = run(settings, "cases", "--jurisdiction", "NOWHERE", expect=3)
    assert unknown.stdout == "" and len(unknown.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["overdue", "history"])
def test_a_bad_as_of_is_a_usage_error(settings: Settings, demo: dict, command: str) -> None:
    case = [demo["samples"]["closed"]] if command == "history" else []
    done = run(settings, command, *case, "--as-of", "next tuesday", expect=2)
    assert "not an RFC 3339 instant" in done.stderr
    beyond = run(settings, command, *case, "--as-of", "0001-01-01T00:00:00+14:00", expect=2)
    unwrapped = "".join(beyond.stderr.replace("│", " ").split())  # the usage box wraps lines
    assert "between1900-01-01and2999-12-31" in unwrapped
