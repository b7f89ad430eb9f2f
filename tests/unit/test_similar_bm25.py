"""The similar-cases index's incremental BM25 scores as rank_bm25's BM25Okapi does over the
same answered corpus, after any sequence of additions, replacements and removals."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from projections.similar_cases import Bm25

WORDS = st.sampled_from(["电梯", "停运", "噪音", "油烟", "工资", "小区", "路灯", "漏水", "物业"])
DOCS = st.sampled_from([f"case-{n:02d}" for n in range(12)])
OPS = st.lists(st.one_of(st.tuples(st.just("add"), DOCS, st.lists(WORDS, max_size=8)),
                         st.tuples(st.just("remove"), DOCS, st.just([]))), max_size=40)


def _expected(corpus: dict[str, list[str]], query: list[str]) -> dict[str, float]:
    ids = sorted(corpus)
    if not ids or not sum(len(corpus[i]) for i in ids):
        return {}
    scores = BM25Okapi([corpus[i] for i in ids]).get_scores(query)
    return {i: float(s) for i, s in zip(ids, scores, strict=True) if s != 0}


@settings(max_examples=300, deadline=None)
@given(OPS, st.lists(st.lists(WORDS, min_size=1, max_size=5), min_size=1, max_size=3))
def test_incremental_scores_equal_rank_bm25(ops, queries) -> None:
    index, corpus = Bm25(), {}
    for op, doc, words in ops:
        if op == "add":  # a replacement when the doc is there
            index.add(doc, words)
            corpus[doc] = words
        else:
            index.remove(doc)
            corpus.pop(doc, None)
        for query in queries[:1]:  # queried between changes: no stale cached idf floor
            _assert_same(index.scores(query), _expected(corpus, query))
    assert len(index) == len(corpus)
    assert index.total == sum(map(len, corpus.values()))
    assert all(index.postings.values())  # no term left without documents
    for query in queries:
        got = index.scores(query)
        _assert_same(got, _expected(corpus, query))
        assert list(index.ranked(query)) == sorted(  # best first, ties by document
            ((s, d) for d, s in got.items() if s > 0), key=lambda x: (-x[0], x[1]))


def _assert_same(got: dict[str, float], expected: dict[str, float]) -> None:
    """Equal but for the order of the idf floor's sum (a score that cancels to zero may be
    zero here and 1e-17 there): documents missing on one side score 0 on it."""
    for doc in got.keys() | expected.keys():
        assert math.isclose(got.get(doc, 0.0), expected.get(doc, 0.0), rel_tol=1e-12,
                            abs_tol=1e-12), (doc, got, expected)


def test_a_term_in_most_documents_gets_the_epsilon_floor() -> None:
    corpus = {"a": ["电梯", "停运"], "b": ["电梯", "噪音"], "c": ["电梯", "油烟"]}
    index = Bm25()
    for doc, words in corpus.items():
        index.add(doc, words)
    expected = _expected(corpus, ["电梯", "电梯", "噪音"])  # repeated: counted twice
    floor = 0.25 * (math.log(0.5 / 3.5) + 3 * math.log(2.5 / 1.5)) / 4  # eps * average idf
    assert math.isclose(index.idf("电梯"), floor) and expected
    _assert_same(index.scores(["电梯", "电梯", "噪音"]), expected)
