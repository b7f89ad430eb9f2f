"""The query-code throttle holds across API processes: two `petition serve` on one store grant
a client (and a guessed code) the allowance once, not once each. Before, each process counted
in its own memory, so N processes (``serve --workers N``) gave an attacker N times the tries."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import free_port
from tests.processes import answers, environment, running, wait_until

PER_CLIENT, PER_CODE_FAILURES = 30, 5  # adapters/throttle.py's defaults


def _guess(url: str, code: str) -> httpx.Response:
    return httpx.post(f"{url}/status", json={"query_code": code}, timeout=30)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_api_processes_share_one_allowance(settings, tmp_path):
    env = environment(settings, PETITION_SUPERVISION_INTERVAL="0")
    first, second = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    with running(["serve", "--port", first.rsplit(":", 1)[1]], env, tmp_path / "a.log"), \
            running(["serve", "--port", second.rsplit(":", 1)[1]], env, tmp_path / "b.log"):
        for url in (first, second):
            wait_until(lambda u=url: answers(f"{u}/healthz"), 60, f"{url} to answer")
        # one code guessed on both: its failures add up across the processes
        same = [_guess((first, second)[i % 2], "WRNG-CODE-0001") for i in range(PER_CODE_FAILURES)]
        assert [r.status_code for r in same] == [404] * PER_CODE_FAILURES
        assert _guess(first, "WRNG-CODE-0001").status_code == 429
        assert _guess(second, "WRNG-CODE-0001").status_code == 429
        # many codes from one client, alternating: one allowance in all
        answers_ = [_guess((first, second)[i % 2], f"WRNG-CODE-{i + 100:04d}").status_code
                    for i in range(2 * PER_CLIENT)]
    assert set(answers_) == {404, 429}
    allowed = answers_.count(404) + PER_CODE_FAILURES + 2
    assert allowed <= PER_CLIENT + 1, answers_  # not 2 × 30 (the refused ones may count)
    assert answers_[-2:] == [429, 429]  # refused by both processes at the end
