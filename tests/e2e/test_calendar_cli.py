"""`petition calendar import` end to end: deadlines in a year the package lacks are provisional
until the operator imports that year's arrangement and revises the recorded ones
(`petition deadlines revise`); `petition info` lists such years from the
configuration alone, in a fresh process that has computed nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.rest_days import PACKAGE_YEARS, ChineseRestDays
from adapters.settings import Settings
from tests.subprocess_env import petition_env

PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]
CST = ZoneInfo("Asia/Shanghai")


def run(settings: Settings, policy: Path, *args: str, expect: int = 0
        ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **petition_env(settings), "PETITION_POLICY_FILE": str(policy)}
    done = subprocess.run([*PETITION, *args], env=env, capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == expect, (done.returncode, done.stdout, done.stderr)
    return done


def test_import_settles_a_year_for_every_later_process(settings: Settings, tmp_path: Path
                                                       ) -> None:
    today = datetime.now(CST).date()
    year = max(PACKAGE_YEARS.stop, today.year + 1)  # the first year the package lacks
    policy = tmp_path / "policy.toml"  # an acceptance deadline on 10 March of that year
    policy.write_text(f"acceptance_days = {(date(year, 3, 10) - today).days}\n")
    body = {
        "actor": "intake:QH-D01", "channel": "visit", "subject": "欠薪 unpaid wages",
        "content": "工地拖欠工资三个月", "category": "labour_wages", "received_by": "QH-D01",
        "location": {"district": "QH-D01", "street": "QH-D01-S02"},
        "petitioner": {"name": "李四", "id_number": "11010519491231002X", "phone": "13800000000"},
    }
    (tmp_path / "p.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")

    expected = ChineseRestDays().uncovered_years(today.year + 1)
    info = json.loads(run(settings, policy, "info", "--json").stdout)
    assert info["calendar_years_not_covered"] == expected
    registered = json.loads(run(settings, policy, "register", str(tmp_path / "p.json"),
                                "--json").stdout)
    assert registered["deadline"]["provisional"] is True
    case = registered["case_id"]
    shown = json.loads(run(settings, policy, "show", case, "--json").stdout)
    assert shown["deadline"]["provisional"] is True
    assert "provisional" in run(settings, policy, "show", case).stdout

    arrangement = tmp_path / f"{year}.csv"
    arrangement.write_text(f"date,kind,name\n{year}-03-10,workday,调休\n{year}-10-08,holiday,国庆节\n",
                           encoding="utf-8")
    done = run(settings, policy, "calendar", "import", str(arrangement))
    assert f"1 days off and 1 working days for {year}" in done.stdout

    shown = json.loads(run(settings, policy, "show", case, "--json").stdout)
    assert shown["deadline"]["provisional"] is True  # recorded: the import alone changes nothing
    dry = json.loads(run(settings, policy, "deadlines", "revise", "--reason", "arrangement",
                         "--dry-run", "--json").stdout)
    assert [r["case_id"] for r in dry["revised"]] == [case] and dry["dry_run"] is True
    done = json.loads(run(settings, policy, "deadlines", "revise", "--reason",
                          f"{year} arrangement imported", "--json").stdout)
    assert [(r["case_id"], r["due_on"], r["provisional"]) for r in done["revised"]] == [
        (case, f"{year}-03-10", False)]
    again = json.loads(run(settings, policy, "deadlines", "revise", "--reason", "again",
                           "--json").stdout)
    assert again["revised"] == []
    history = json.loads(run(settings, policy, "history", case, "--json").stdout)
    assert [h["type"] for h in history][-1] == "DeadlineRevised"
    assert run(settings, policy, "deadlines", "revise", "--reason", " ", expect=2).stderr
    shown = json.loads(run(settings, policy, "show", case, "--json").stdout)
    assert shown["deadline"]["provisional"] is False
    assert shown["deadline"]["due_on"] == f"{year}-03-10"
    info = json.loads(run(settings, policy, "info", "--json").stdout)
    assert info["calendar_years_not_covered"] == [y for y in expected if y != year]
    status = json.loads(run(settings, policy, "calendar", "status", "--json").stdout)
    assert status["imported_years"] == [year] and status["imported_from"] == arrangement.name


def test_a_bad_holiday_file_exits_3_with_one_line_and_records_nothing(
        settings: Settings, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("")
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind,name\n2027-02-30,holiday,x\n", encoding="utf-8")
    done = run(settings, policy, "calendar", "import", str(bad), expect=3)
    assert done.stderr.count("\n") == 1 and "line 2" in done.stderr
    status = json.loads(run(settings, policy, "calendar", "status", "--json").stdout)
    assert status["imported_years"] == []
