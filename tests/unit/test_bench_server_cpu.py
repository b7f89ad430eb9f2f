"""Figure 2's database CPU: the server's processes split by whom they worked for, and a backend
that exits during the run counted as unmeasured, never silently as zero."""

from __future__ import annotations

import pytest

from bench.server_cpu import Snapshot, used


def test_client_backends_background_and_others_are_kept_apart():
    before = Snapshot({1: 1.0, 2: 5.0, 3: 2.0, 4: 7.0}, clients=frozenset({1}),
                      others=frozenset({3}))
    after = Snapshot({1: 1.5, 2: 5.25, 3: 4.0, 4: 7.5, 5: 0.25}, clients=frozenset({1, 5}),
                     others=frozenset({3}))
    spent = used(before, after)
    assert spent.client_backends == pytest.approx(0.75)  # 1: +0.5, 5 (new): 0.25
    assert spent.background == pytest.approx(0.75)  # 2 and 4, the server's own processes
    assert spent.other_backends == pytest.approx(2.0)  # not counted
    assert spent.counted == pytest.approx(1.5)
    assert (spent.backends, spent.started, spent.exited) == (2, 1, 0)


def test_a_client_backend_that_exited_is_reported_as_unmeasured():
    before = Snapshot({1: 1.0, 2: 3.0}, clients=frozenset({1, 2}), others=frozenset())
    after = Snapshot({1: 2.0}, clients=frozenset({1}), others=frozenset())
    spent = used(before, after)
    assert spent.client_backends == pytest.approx(1.0)
    assert (spent.backends, spent.exited) == (1, 1)
