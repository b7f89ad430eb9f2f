"""How loops retry: bounded exponential backoff with jitter, and a health that logs each
change of state once (hypothesis for the bounds)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from workflows.retrying import Backoff, LoopHealth


@given(initial=st.floats(0.001, 10), maximum=st.floats(0.001, 600), attempts=st.integers(1, 80))
def test_every_delay_is_within_half_and_all_of_its_capped_ceiling(
        initial: float, maximum: float, attempts: int) -> None:
    backoff = Backoff(initial=initial, maximum=maximum)
    for attempt in range(1, attempts + 1):
        delay = backoff.next()
        ceiling = min(maximum, initial * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next() <= min(maximum, initial)


def test_a_stall_is_logged_once_per_event_and_recovery_once() -> None:
    health = LoopHealth("view case_view")
    with capture_logs() as logs:
        assert health.stalled(7, "case-a", OverflowError("out of range"))
        assert not health.stalled(7, "case-a", OverflowError("out of range"))
        assert health.as_dict()["attempts"] == 2
        assert health.stalled(9, "case-b", ValueError("other"))  # a new event: news again
        assert "stalled at event 9 (case case-b)" in health.summary()
        assert health.recovered()
        assert not health.recovered()
    assert [e["event"] for e in logs] == ["loop.stalled", "loop.stalled", "loop.recovered"]
    assert logs[0]["log_level"] == "error" and logs[0]["position"] == 7
    assert health.ok and health.as_dict() == {"state": "following"}


def test_retrying_logs_the_first_failure_as_an_error_then_warnings() -> None:
    health = LoopHealth("supervision timer")
    with capture_logs() as logs:
        health.retrying(ConnectionError("refused"), 0.5)
        health.retrying(ConnectionError("refused\nagain"), 1.0)
    assert [e["log_level"] for e in logs] == ["error", "warning"]
    state = health.as_dict()
    assert state["state"] == "retrying" and state["attempts"] == 2
    assert state["error"] == "ConnectionError: refused again"  # one line
