"""A catch-up paces the collector's full collections, and leaves its thresholds as it found
them, however catch-ups overlap or end."""

from __future__ import annotations

import gc
import threading

import pytest

from projections.gc_pacing import OLDEST_THRESHOLD, fewer_full_collections


@pytest.fixture(autouse=True)
def thresholds():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_the_oldest_threshold_is_raised_inside_and_restored_after() -> None:
    with fewer_full_collections():
        assert gc.get_threshold() == (700, 10, OLDEST_THRESHOLD)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_set_by_the_process_is_kept() -> None:
    gc.set_threshold(2000, 20, 5000)
    with fewer_full_collections():
        assert gc.get_threshold() == (2000, 20, 5000)
    assert gc.get_threshold() == (2000, 20, 5000)


def test_restored_after_a_failure() -> None:
    with pytest.raises(RuntimeError), fewer_full_collections():
        raise RuntimeError("the store went away")
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_catch_ups_restore_once_the_last_ends() -> None:
    first_in, second_done, seen = threading.Event(), threading.Event(), []

    def second() -> None:
        first_in.wait()
        with fewer_full_collections():
            seen.append(gc.get_threshold())
        second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with fewer_full_collections():
        first_in.set()
        second_done.wait(5)
        seen.append(gc.get_threshold())  # the second ended first: still raised for this one
    thread.join()
    assert seen == [(700, 10, OLDEST_THRESHOLD)] * 2
    assert gc.get_threshold() == (700, 10, 10)
