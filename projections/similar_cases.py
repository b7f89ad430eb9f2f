"""Similar handled cases (类案推送): given a new petition's text, the most similar answered
cases and their answers, by jieba word segmentation and BM25 (``rank-bm25``).

The texts (subject, content, answer) are personal data at rest only in encrypted events, so
this read model is kept **in memory**, never in a table: it follows the event log from its own
position like any view (``refresh`` reads the notifications after it, each applied once) and
is rebuilt from the log when a process starts. Only answered cases are candidates: their
latest answer is what is suggested.

Why BM25 over jieba tokens: petitions about the same matter share its nouns (工资, 电梯, 油烟)
while their wording varies; BM25's term saturation and length normalisation rank such
near-duplicates first without training, and both libraries are small, pure Python and
maintained (docs/dependencies.md). Segmentation uses jieba's bundled dictionary (no download).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from domain import events as ev
from workflows.decoding import CASE_TOPICS, decode
from workflows.loop_thread import LoopThread
from workflows.retrying import Backoff, LoopHealth

STOPWORDS = frozenset({
    "的", "了", "是", "在", "和", "与", "及", "等", "被", "把",
    "对", "也", "就", "都", "而", "及其", "我", "我们", "你", "他",
    "她", "它", "这", "那", "有", "一个", "没有", "已经", "多次", "反映",
    "问题", "情况", "请求", "要求", "希望", "进行", "相关",
})


def tokens(text: str) -> list[str]:
    """jieba's words of ``text`` without punctuation, spaces and stop words."""
    import jieba

    return [w for w in jieba.lcut(text.lower())
            if w.strip() and w not in STOPWORDS and any(ch.isalnum() for ch in w)]


@dataclass
class Candidate:
    case_id: str
    subject: str
    category: str
    places: tuple[str, ...]  # received_by, district, street: for the caller's scope
    words: list[str]
    answer: str | None = None
    answered_by: str | None = None


class SimilarCasesStalled(Exception):
    """A stored event the index cannot read or apply: it stops before it, never skips it."""

    def __init__(self, position: int, case_id: str, error: BaseException):
        self.position, self.case_id, self.error = position, case_id, error
        super().__init__(f"cannot index event {position} (case {case_id}): {error!r}")


class SimilarCases:
    """BM25 over the answered cases, refreshed from the event log on each query. One per
    process, owned by the composition root (``Root.similar_cases``), which hands it to the
    routes, the CLI and the ``SimilarCasesFollower``."""

    def __init__(self, app: Any):
        self.app = app
        self.position = 0
        self._cases: dict[str, Candidate] = {}
        self._ranked: tuple[Any, list[Candidate]] | None = None
        self._lock = threading.Lock()

    def refresh(self, batch: int = 5000) -> None:
        """Applies the events after ``position``; a case event that cannot be decoded or
        applied raises ``SimilarCasesStalled`` naming it, after the ones before it are applied
        (never skipped: the index stops there until it can be; workflows/decoding.py)."""
        while True:  # the lock is held per batch: a query waits for one batch, not the log
            with self._lock:
                notes = self.app.recorder.select_notifications(
                    start=self.position, limit=batch, inclusive_of_start=False)
                if not notes:
                    return
                for note in notes:
                    if note.topic.startswith(CASE_TOPICS):  # it indexes case events only
                        try:
                            self.apply([decode(self.app, note)])
                        except Exception as error:  # named, never skipped
                            raise SimilarCasesStalled(note.id, str(note.originator_id),
                                                      error) from error
                    self.position = note.id

    def apply(self, events: Iterable[Any]) -> None:
        for e in events:
            key = str(getattr(e, "originator_id", ""))
            if isinstance(e, ev.Registered):
                self._cases[key] = Candidate(
                    key, e.subject, e.category,
                    tuple(u for u in (e.received_by, e.location.district, e.location.street) if u),
                    tokens(f"{e.subject} {e.content}"))
            elif isinstance(e, ev.Answered) and key in self._cases:
                self._cases[key].answer, self._cases[key].answered_by = e.answer, e.unit
                self._ranked = None

    def search(self, text: str, *, limit: int = 5, units: Collection[str] | None = None,
               exclude: str | None = None, visible: Callable[[str], bool] | None = None
               ) -> list[dict[str, Any]]:
        """The ``limit`` answered cases most similar to ``text`` (within ``units``, if given),
        among those ``visible`` admits: a caller's reach, which depends on the case's current
        holder and responsible unit, not on where it was registered. An event the index is
        stalled on does not refuse the query: it answers from the cases before it (readiness
        names the stall)."""
        try:
            self.refresh()
        except SimilarCasesStalled:
            pass
        words = tokens(text)
        bm25, docs = self._index()
        if not words or not docs:
            return []
        scores = bm25.get_scores(words)
        ranked = sorted(range(len(docs)), key=lambda i: (-scores[i], docs[i].case_id))
        out = []
        for i in ranked:
            d = docs[i]
            if scores[i] <= 0 or d.case_id == exclude or (
                    units is not None and not set(d.places) & set(units)) or (
                    visible is not None and not visible(d.case_id)):
                continue
            out.append({"case_id": d.case_id, "score": round(float(scores[i]), 4),
                        "subject": d.subject, "category": d.category, "answer": d.answer,
                        "answered_by": d.answered_by})
            if len(out) == limit:
                break
        return out

    def _index(self) -> tuple[Any, list[Candidate]]:
        with self._lock:
            if self._ranked is None:
                from rank_bm25 import BM25Okapi

                docs = sorted((c for c in self._cases.values() if c.answer is not None),
                              key=lambda c: c.case_id)
                self._ranked = (BM25Okapi([d.words for d in docs]) if docs else None, docs)
            return self._ranked


class SimilarCasesFollower(LoopThread):
    """Keeps a serving process's index caught up in the background, so a query pays for the
    events since the last pass, not for reading and segmenting the whole log (which took a
    cold process's first query past 10 s on a loaded machine). A failing store is retried
    with growing pauses and an event it cannot index is tried again after longer ones; either
    way ``health`` says so, and /readyz names the loop, as it names the views and the relay."""

    thread_name = "similar-cases"

    def __init__(self, index: SimilarCases, interval: float = 2.0):
        super().__init__()
        self.index, self.interval = index, interval
        self.health = LoopHealth("similar cases")

    def run(self) -> None:
        # the store's outage is retried as often as the views retry it, so readiness
        # returns with the store's; an event it cannot index, less often
        retry, stall = Backoff(initial=0.5, maximum=5.0), Backoff(5.0, 300.0)
        while not self._stopping.is_set():
            try:
                self.index.refresh()
            except SimilarCasesStalled as error:
                if self.health.stalled(error.position, error.case_id, error.error):
                    stall.reset()
                pause = stall.next()
            except Exception as error:  # noqa: BLE001 - the store is away: back off, retry
                pause = retry.next()
                self.health.retrying(error, pause)
            else:
                retry.reset()
                self.health.recovered()
                pause = self.interval * random.uniform(0.8, 1.2)
            self._stopping.wait(pause)
