"""Every CLI command, run against a store it cannot use, fails the documented way: stdout empty
or valid JSON, one line on stderr, the documented exit code, never a traceback.

Before, `verify`, `projections *`, `overdue` and `due-soon` printed a Rich traceback on stdout
(so `--json` output was not JSON). The commands are listed from the CLI itself, so a command
added later is covered (or this test says which placeholder argument it needs).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import structlog
import typer

from adapters.cli.errors import run_guarded
from adapters.cli.main import app

PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]
KEY = base64.b64encode(b"k" * 32).decode()
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/test"  # nothing listens on port 1
PLACEHOLDERS = {  # values for required arguments and options, by parameter name
    "case_id": str(uuid.UUID(int=1)), "token_id": str(uuid.UUID(int=2)), "action": "accept",
    "name": "case_view", "role": "intake", "unit": "QH-D01", "group": "g",
    "period": "2026-10", "text": "夜间施工噪音", "reason": "政策调整", "leader": "王区长",
    "starts_at": "2031-03-05T09:00+08:00", "ends_at": "2031-03-05T09:30+08:00",
}
# refuse (exit 2) before touching any store
NEEDS_KAFKA = {("relay",), ("subscribe",), ("inbound", "run"), ("inbound", "status")}


@pytest.fixture(autouse=True)
def _restore_structlog():
    """run_guarded points the logs at the stderr that capfd captures: undo it afterwards."""
    yield
    structlog.reset_defaults()


def _commands(group=None, path=()):
    """(path, click command) for every runnable command of the CLI."""
    group = group or typer.main.get_command(app)
    for name, command in sorted(group.commands.items()):
        here = (*path, name)
        if getattr(command, "commands", None):
            if getattr(command, "invoke_without_command", False):
                yield here, command
            yield from _commands(command, here)
        else:
            yield here, command


def _args(path, command, tmp_path: Path) -> list[str]:
    args = list(path)
    for param in command.params:
        if not param.required:
            continue
        if param.name == "file":
            value = str(_file_for(path, tmp_path))
        elif param.name in PLACEHOLDERS:
            value = PLACEHOLDERS[param.name]
        else:
            raise AssertionError(f"add a placeholder for {' '.join(path)} {param.name}")
        args += [value] if param.param_type_name == "argument" else [param.opts[0], value]
    if path == ("act",):  # valid fields, so that the command reaches the store
        args += ["handling_track=claim", "speed_track=general"]
    if path == ("projections", "rebuild"):
        args.append("--all")
    if any("--json" in p.opts for p in command.params):
        args.append("--json")
    return args


def _file_for(path, tmp_path: Path) -> Path:
    if path == ("units", "load"):
        return Path(__file__).parents[2] / "adapters" / "data" / "demo_units.csv"
    if path == ("calendar", "import"):
        arrangement = tmp_path / "holidays.csv"
        arrangement.write_text("date,kind,name\n2031-10-08,holiday,国庆节\n", encoding="utf-8")
        return arrangement
    if path == ("proxies", "load"):  # a valid roster: the store is what fails
        roster = tmp_path / "proxies.csv"
        roster.write_text("id,name,grids,token\nP-1,张三,QH-D01-S01-C01-G01,\n", encoding="utf-8")
        return roster
    body = tmp_path / "petition.json"
    body.write_text(json.dumps({
        "actor": "intake:QH-D01", "channel": "visit", "subject": "s", "content": "c",
        "category": "x", "received_by": "QH-D01", "location": {"district": "QH-D01"},
        "petitioner": {"name": "李四", "id_number": "11010519491231002X",
                       "phone": "13800000000"}}, ensure_ascii=False), encoding="utf-8")
    return body


def _damaged_file(tmp_path: Path) -> Path:
    path = tmp_path / "damaged" / "petitions.db"
    path.parent.mkdir()
    path.write_bytes(b"SQLite format 3\x00" + b"\x5a" * 40_000)
    return path


STORES = {
    "unreachable-postgres": (lambda tmp: UNREACHABLE, 6),
    "damaged-sqlite": (_damaged_file, 9),
}


@pytest.mark.parametrize("store", sorted(STORES))
def test_every_command_fails_with_one_line_and_its_code(store, tmp_path, monkeypatch, capfd):
    make, expected = STORES[store]
    monkeypatch.setenv("PETITION_STORE", str(make(tmp_path)))
    monkeypatch.setenv("PETITION_CIPHER_KEY", KEY)
    monkeypatch.setenv("PETITION_QUERY_CODE_KEY", KEY)
    monkeypatch.setenv("PETITION_LOG_FORMAT", "json")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    ran = []
    for path, command in _commands():
        args = _args(path, command, tmp_path)
        with pytest.raises(SystemExit) as exited:
            run_guarded(app, args)
        out, err = capfd.readouterr()
        code = exited.value.code
        ran.append(" ".join(path))
        if path in NEEDS_KAFKA:
            assert code == 2 and "KAFKA_BOOTSTRAP_SERVERS" in err, (args, code, out, err)
        elif path == ("verify",) and expected == 9:  # damage is verify's finding: exit 8
            assert code == 8, (args, out, err)
            assert json.loads(out)[0]["problem"] == "damaged-store"
            assert err == ""
            continue
        else:
            assert code == expected, (args, code, out, err)
        assert out == "" or json.loads(out) is not None, (args, out)
        assert err.count("\n") == 1 and err.startswith("petition: "), (args, err)
        assert "Traceback" not in out + err
    assert {"verify", "overdue", "due-soon", "projections status", "projections rebuild",
            "projections run", "serve", "info", "register", "act", "keys rotate"} <= set(ran)


def test_usage_errors_are_one_line_too(capfd):
    for args in (["act", "not-a-uuid", "accept"], ["nosuch"], ["act", str(uuid.UUID(int=1)),
                                                                "fly"]):
        with pytest.raises(SystemExit) as exited:
            run_guarded(app, args)
        out, err = capfd.readouterr()
        assert exited.value.code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("petition: "), err


def test_the_console_script_keeps_json_output_clean_when_the_store_is_down():
    env = {**os.environ, "PETITION_STORE": UNREACHABLE, "PETITION_CIPHER_KEY": KEY,
           "PETITION_QUERY_CODE_KEY": KEY}
    env.pop("PETITION_LOG_FORMAT", None)
    done = subprocess.run([*PETITION, "verify", "--json"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 6
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "unreachable" in done.stderr


def test_every_exit_code_is_documented():
    from adapters.cli import errors

    table = (Path(__file__).parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    section = table[table.index("## Exit codes of the CLI"):]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.M)}
    used = {code for _, code in errors.EXIT_CODES} | {
        0, errors.INTERNAL, errors.INVALID, errors.RETRY, errors.KEY, errors.DAMAGED, 8}
    assert documented == used


@pytest.mark.parametrize("args", [
    ["receptions", "publish", "--unit", "QH-D01", "--leader", "王区长", "--starts-at", "nonsense",
     "--ends-at", "2031-03-05T09:30+08:00"],
    ["receptions", "publish", "--unit", "QH-D01", "--leader", "王区长",
     "--starts-at", "2031-03-05T09:00", "--ends-at", "2031-03-05T09:30+08:00"],  # no zone
    ["simulate", "--start", "2026-02-30", "--days", "1"],
])
def test_a_malformed_time_option_is_a_usage_error_before_any_store(args, tmp_path, monkeypatch,
                                                                   capfd):
    monkeypatch.setenv("PETITION_STORE", str(_damaged_file(tmp_path)))  # never reached
    with pytest.raises(SystemExit) as exited:
        run_guarded(app, args)
    out, err = capfd.readouterr()
    assert exited.value.code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("petition: ") and "--start" in err
