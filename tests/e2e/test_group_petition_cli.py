"""A group petition (集体访 / 联名) through the `petition` CLI, on both stores: registered from a
file with its named co-petitioners, one more recorded with `act`, personal data only with
--pii, a sixth representative refused with exit 3 and one line on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.settings import Settings
from tests.e2e.test_cli import run
from workflows.commands import id_number_check_char


def _id(first17: str) -> str:
    return first17 + id_number_check_char(first17)


def test_register_a_group_then_add_a_co_petitioner(settings: Settings, tmp_path: Path) -> None:
    reps = [{"name": f"代表{n}", "id_number": _id(f"4403051987062300{n}"),
             "phone": f"1390000000{n}", "representative": True} for n in range(3)]
    body = {
        "actor": "intake:QH-D01", "channel": "visit", "subject": "征地补偿",
        "content": "村集体土地补偿款未发放", "category": "land", "received_by": "QH-D01",
        "location": {"district": "QH-D01", "street": "QH-D01-S02"}, "co_petitioners": 40,
        "petitioner": {"name": "李四", "id_number": "11010519491231002X", "phone": "13800000000"},
        "group": reps,
    }
    (tmp_path / "g.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    case = json.loads(run(settings, "register", str(tmp_path / "g.json"), "--json").stdout)
    run(settings, "act", case["case_id"], "add-co-petitioner", "name=王五",
        f"id_number={_id('44030519870623009')}", "phone=13900000009", "representative=true")
    shown = json.loads(run(settings, "show", case["case_id"], "--json").stdout)
    assert shown["group_petition"] is True and shown["representatives"] == 5
    assert shown["co_petitioners"] == 40 and shown["group_members"] == "<redacted>"
    assert "代表0" not in json.dumps(shown, ensure_ascii=False)
    with_pii = json.loads(run(settings, "show", case["case_id"], "--json", "--pii").stdout)
    assert [m["person"]["name"] for m in with_pii["group_members"]] == \
        ["代表0", "代表1", "代表2", "王五"]
    # registration's acceptance limit is the group's: 7 days (packaged policy [group])
    assert shown["deadline"]["kind"] == "acceptance"
    refused = run(settings, "act", case["case_id"], "add-co-petitioner", "name=赵六",
                  f"id_number={_id('44030519870623008')}", "phone=13900000008",
                  "representative=true", expect=3)
    assert "at most 5 representatives" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    history = json.loads(run(settings, "history", case["case_id"], "--json").stdout)
    assert [r["type"] for r in history] == ["Registered", *["CoPetitionerAdded"] * 4]
    assert all(r["data"]["co_petitioner"] == "<redacted>" for r in history[1:])
