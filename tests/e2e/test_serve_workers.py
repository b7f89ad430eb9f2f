"""`petition serve --workers N`: N API-only processes behind one socket (issue 17.1).

- On PostgreSQL two API processes answer, with `petition worker views` following the views
  in a third: a list read right after a write, on either process, shows it (the API process
  waits for the worker's view to reach the log's end); an API process killed with SIGKILL is
  replaced and the API keeps answering.
- On SQLite more than one API process is refused before anything is opened: exit 2, one line;
  so is a `petition worker` role that cannot run (inbound without PETITION_INBOUND_MAP, the relay
  without Kafka, a name that is no role).
"""

from __future__ import annotations

import os
import signal

import httpx
import pytest

from adapters.settings import Settings
from adapters.wiring import build_application
from tests.e2e.conftest import bearer, free_port, register_body
from tests.processes import (
    answers,
    children,
    command_line,
    environment,
    running,
    wait_until,
)
from tests.subprocess_env import petition_env
from workflows.access import Role
from workflows.tokens import TokenService


def api_workers(pid: int) -> list[int]:
    return [c for c in children(pid) if "spawn_main" in command_line(c)]


def leads(port: int, part: str) -> bool:
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json()
    except httpx.HTTPError:
        return False
    return answer["parts"][part]["state"] == "leader"


def intake_token(settings: Settings) -> str:
    app = build_application(settings)
    try:
        return TokenService(app, app.org, app.clock).issue(Role.INTAKE, "QH-D01").token
    finally:
        app.close()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_two_api_processes_serve_and_a_killed_one_is_replaced(settings, tmp_path):
    token, port, views_port = intake_token(settings), free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    env = environment(settings)
    with running(["serve", "--workers", "2", "--port", str(port)], env,
                 tmp_path / "serve.log") as serve, \
            running(["worker", "views", "--port", str(views_port)], env,
                    tmp_path / "worker.log"):
        wait_until(lambda: answers(f"{url}/healthz"), 60, "the API to answer")
        workers = wait_until(lambda: len(api_workers(serve.pid)) == 2 and api_workers(serve.pid),
                             30, "two API processes")
        with httpx.Client(base_url=url, timeout=30, headers=bearer(token)) as http:
            wait_until(lambda: leads(views_port, "views.case_view"), 60, "the views' worker")
            for _ in range(3):  # each list, on whichever process, sees the write before it
                created = http.post("/petitions", json=register_body())
                assert created.status_code == 201, created.text
                case = created.json()["case_id"]
                listed = httpx.get(f"{url}/petitions", headers=bearer(token), timeout=30)
                assert case in {row["case_id"] for row in listed.json()["items"]}, listed.text
            for _ in range(4):  # connections spread over both processes
                assert httpx.get(f"{url}/petitions/{case}", headers=bearer(token),
                                 timeout=30).status_code == 200
            os.kill(workers[0], signal.SIGKILL)
            wait_until(lambda: workers[0] not in api_workers(serve.pid)
                       and len(api_workers(serve.pid)) == 2, 60, "a replacement process")
            wait_until(lambda: answers(f"{url}/healthz"), 30, "the API to answer again")
            assert http.get(f"/petitions/{case}").status_code == 200
        assert http.is_closed and serve.poll() is None


def run_in_process(settings: Settings, args: list[str], monkeypatch: pytest.MonkeyPatch,
                   capfd: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`petition ARGS` through the CLI's error boundary, in this process (no start-up cost)."""
    import structlog

    from adapters.cli.errors import run_guarded
    from adapters.cli.main import app

    for name, value in petition_env(settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    try:
        with pytest.raises(SystemExit) as exited:
            run_guarded(app, args)
    finally:
        structlog.reset_defaults()  # run_guarded pointed the logs at the captured stderr
    out, err = capfd.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.mark.parametrize("backend", ["sqlite"])
def test_more_than_one_worker_on_sqlite_is_refused_with_one_line(settings, monkeypatch, capfd):
    code, out, err = run_in_process(settings, ["serve", "--workers", "2"], monkeypatch, capfd)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "PostgreSQL" in err and "--workers" in err
    assert not os.path.exists(settings.store)  # refused before the store was opened


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(("role", "says"), [("inbound", "PETITION_INBOUND_MAP"), ("relay", "KAFKA"),
                                            ("nosuch", "views, supervision, relay, inbound")])
def test_a_role_that_cannot_run_is_refused_with_one_line(settings, role, says, monkeypatch,
                                                        capfd):
    code, out, err = run_in_process(settings, ["worker", role], monkeypatch, capfd)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err, err
    assert not os.path.exists(settings.store)  # refused before the store was opened
