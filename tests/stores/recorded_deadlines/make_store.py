"""Writes ``petitions.db`` and ``expected.json``: a store of the release that records deadlines
(events at class_version 2), kept so that later releases are checked against it.

Run from a checkout of the commit named in ``expected.json`` (``written_by``):

    PYTHONPATH=$PWD python3 tests/stores/recorded_deadlines/make_store.py tests/stores/recorded_deadlines

One case per stage an obligation can be in, on a manual clock in March–June 2025, with the
policy in ``policy-then.toml`` (the packaged one); then, under ``policy-later.toml`` (answer 90
days), ``petition deadlines revise`` appends a ``DeadlineRevised`` to one case; and the same
matter brought again after a re-review is flagged (不再受理). ``expected.json`` holds every
recorded deadline as the writing release read it, and each case's event types. A reader with
any later policy must show the same.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.settings import Settings
from adapters.wiring import build_application
from domain import events as ev
from tests.integration.helpers import DISTRICT, STREET, id_number, register_command
from workflows import commands as c
from workflows.clock import ManualClock
from workflows.deadline_revision import revise_deadlines

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
CASE_STEPS: dict[str, list[str]] = {
    "registered": [],
    "in_handling": ["accept", "delegate"],
    "extended": ["accept", "delegate", "extend"],
    "general_track": ["accept_general", "delegate"],
    "answered": ["accept", "delegate", "answer"],
    "answered_delivered": ["accept", "delegate", "answer", "deliver"],
    "suggestion_answered": ["accept_suggestion", "delegate", "answer"],
    "under_review": ["accept", "delegate", "answer", "deliver", "review"],
    "reviewed_delivered": ["accept", "delegate", "answer", "deliver", "review",
                           "review-decision", "deliver"],
    "under_re_review": ["accept", "delegate", "answer", "deliver", "review", "review-decision",
                        "re-review"],
    "re_reviewed": ["accept", "delegate", "answer", "deliver", "review", "review-decision",
                    "deliver", "re-review", "re-review-decision"],
    "reopened": ["accept", "delegate", "extend", "answer", "reopen"],
    "revised": ["accept", "delegate"],  # revised under the later policy
}
AGAIN = {"subject": "路灯还是不亮", "content": "文昌街道第一社区的路灯已经坏了两个月，仍未修好。"}


def command(step: str, case_id: Any) -> c.Command:
    track = {"accept": "complex", "accept_general": "general", "accept_suggestion": "complex"}
    if step in track:
        handling = "suggestion" if step == "accept_suggestion" else "claim"
        return c.AcceptPetition(case_id=case_id, actor="intake-01", handling_track=handling,
                                speed_track=track[step])
    return {
        "delegate": lambda: c.DelegatePetition(case_id=case_id, actor="dispatcher-01",
                                               unit=STREET, note="请核实"),
        "extend": lambda: c.ExtendDeadline(case_id=case_id, actor="supervisor-01", days=15,
                                           reason="需要现场勘查"),
        "answer": lambda: c.AnswerPetition(case_id=case_id, actor="handler-01", unit=STREET,
                                           answer="已安排维修。"),
        "deliver": lambda: c.DeliverDecision(case_id=case_id, actor="handler-01",
                                             channel="post"),
        "review": lambda: c.RequestReview(case_id=case_id, actor="petitioner",
                                          reason="仍未修好"),
        "review-decision": lambda: c.DecideReview(case_id=case_id, actor="reviewer-01",
                                                  unit=DISTRICT, outcome="revised",
                                                  opinion="责令重修"),
        "re-review": lambda: c.RequestReReview(case_id=case_id, actor="petitioner",
                                               reason="对复查意见不服"),
        "re-review-decision": lambda: c.DecideReReview(case_id=case_id, actor="reviewer-02",
                                                       unit="QH", outcome="upheld",
                                                       opinion="维持复查意见"),
        "reopen": lambda: c.ReopenPetition(case_id=case_id, actor="supervisor-01",
                                           reason="答复不实"),
    }[step]()


def plain(value: Any) -> Any:
    """A recorded deadline (or None, or 'derived') as JSON, every field."""
    if value is None or isinstance(value, str):
        return value
    return {"kind": str(value.kind), "starts_at": value.starts_at.isoformat(),
            "due_on": value.due_on.isoformat(), "expires_at": value.expires_at.isoformat(),
            "provisional": value.provisional, "days": value.days, "calendar": value.calendar}


def main(folder: Path) -> None:
    keys = json.loads((folder / "keys.json").read_text())
    store = folder / "petitions.db"
    store.unlink(missing_ok=True)
    settings = Settings.from_env({
        "PETITION_STORE": str(store), "PETITION_DATA_DIR": str(folder / "data-unused"),
        "PETITION_POLICY_FILE": str(folder / "policy-then.toml"), **keys})
    clock = ManualClock(START)
    app = build_application(settings, clock=clock)
    cases: dict[str, Any] = {}
    try:
        for n, (name, steps) in enumerate(CASE_STEPS.items()):
            clock.advance(timedelta(hours=1))
            person = {"name": "王小明", "id_number": id_number(f"110105199003072{n:02d}"),
                      "phone": "13800138000"}
            cases[name] = case_id = app.register(register_command(petitioner=person)).case_id
            for step in steps:
                clock.advance(timedelta(days=1))
                app.execute(command(step, case_id))
        clock.advance(timedelta(hours=1))  # the same matter again, after the re-review
        person = {"name": "王小明", "id_number": id_number(f"110105199003072{10:02d}"),
                  "phone": "13800138000"}
        cases["flagged_again"] = app.register(
            register_command(petitioner=person, **AGAIN)).case_id
    finally:
        app.close()
    later = build_application(replace(settings, policy_file=folder / "policy-later.toml"),
                              clock=clock)
    try:
        clock.advance(timedelta(days=1))
        revised = revise_deadlines(later, [cases["revised"]], reason="policy: answer 90 days")
        assert [r.case_id for r in revised] == [cases["revised"]]
        expected = {}
        for name, case in cases.items():
            events = later.events_of(case)
            petition = later.get_petition(case)
            expected[name] = {
                "case_id": str(case), "status": str(petition.status),
                "version": petition.version,
                "events": [type(e).__name__ for e in events],
                "recorded": [plain(e.deadline) for e in events
                             if isinstance(e, ev.StartsDeadline | ev.DeadlineRevised)],
                "deadline": plain(later.deadline_of(petition)),
                "answer_deadline": plain(later.policy.answer_deadline(petition)),
                "concluded_flag": petition.concluded_flag}
    finally:
        later.close()
    with closing(sqlite3.connect(store)) as conn:  # one self-contained file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("VACUUM")
    commit = sys.argv[2] if len(sys.argv) > 2 else "unknown"
    (folder / "expected.json").write_text(
        json.dumps({"written_by": commit, "clock_at_end": clock.now().isoformat(),
                    "cases": expected}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
