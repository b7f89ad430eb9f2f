"""Similar handled cases (类案推送): given a new petition's text, the most similar answered
cases and their answers, by jieba word segmentation and BM25 (Okapi, as ``rank-bm25``).

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

import math
import random
import sys
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

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

# The index decodes (and so decrypts) only the events it uses. A note of another known case
# event type is passed over undecoded; a case topic this release does not know is decoded, so
# it stalls the index there as it stalls the views (workflows/decoding.py).
USED_TOPICS = frozenset(get_topic(cls) for cls in (ev.Registered, ev.Answered))
KNOWN_TOPICS = frozenset(get_topic(cls) for cls in ev.ALL_EVENTS)


def decodes(topic: str) -> bool:
    """Whether the index decodes a note of ``topic``: an event it uses, or an unknown case event."""
    return topic in USED_TOPICS or (topic.startswith(CASE_TOPICS) and topic not in KNOWN_TOPICS)


def tokens(text: str) -> list[str]:
    """jieba's words of ``text`` without punctuation, spaces and stop words."""
    import jieba

    return [w for w in jieba.lcut(text.lower())
            if w.strip() and w not in STOPWORDS and any(ch.isalnum() for ch in w)]


@dataclass(slots=True)
class Candidate:
    """What a search needs of one case. Its words are kept (interned) only until it is
    answered; from then on they live in the BM25 postings only."""

    case_id: str
    subject: str
    category: str
    places: tuple[str, ...]  # received_by, district, street: for the caller's scope
    pending: tuple[str, ...] | None  # its words while unanswered
    answered: tuple[str, str] | None = None  # (answer, answering unit), replaced as one


class Bm25:
    """BM25 (Okapi) over a corpus that grows and changes one document at a time: postings
    (term -> {doc: term frequency}), document lengths, their count and total length. A query
    scores only the documents that share one of its terms. Scores equal ``rank_bm25``'s
    ``BM25Okapi`` over the same corpus (same k1, b, epsilon; a term in more than half of the
    documents gets the floor ``epsilon * average idf``, computed only when such a term is
    queried, and kept until the corpus changes): tests/unit/test_similar_bm25.py."""

    k1, b, epsilon = 1.5, 0.75, 0.25

    def __init__(self) -> None:
        self.postings: dict[str, dict[str, int]] = {}
        self.lengths: dict[str, int] = {}
        self.total = 0
        self._average_idf: float | None = None

    def __len__(self) -> int:
        return len(self.lengths)

    def __contains__(self, doc: str) -> bool:
        return doc in self.lengths

    def add(self, doc: str, words: Iterable[str]) -> None:
        if doc in self.lengths:
            self.remove(doc)
        length = 0
        for word, n in Counter(words).items():
            self.postings.setdefault(word, {})[doc] = n
            length += n
        self.lengths[doc] = length
        self.total += length
        self._average_idf = None

    def remove(self, doc: str) -> None:
        """Takes ``doc`` out (a walk over the vocabulary: a case is registered once, so this
        is for completeness, not a path that runs)."""
        if doc not in self.lengths:
            return
        for word in [w for w, docs in self.postings.items() if doc in docs]:
            docs = self.postings[word]
            del docs[doc]
            if not docs:
                del self.postings[word]
        self.total -= self.lengths.pop(doc)
        self._average_idf = None

    def _raw_idf(self, df: int) -> float:
        n = len(self.lengths)
        return math.log(n - df + 0.5) - math.log(df + 0.5)

    def idf(self, word: str) -> float:
        docs = self.postings.get(word)
        if not docs:
            return 0.0
        idf = self._raw_idf(len(docs))
        if idf < 0:
            if self._average_idf is None:
                self._average_idf = (sum(self._raw_idf(len(d)) for d in self.postings.values())
                                     / len(self.postings))
            idf = self.epsilon * self._average_idf
        return idf

    def scores(self, query: list[str]) -> dict[str, float]:
        """The score of each document sharing a term with ``query``, accumulated in the query's
        order as rank_bm25 does (a repeated query term counts again)."""
        if not self.lengths:
            return {}
        k1, b, avgdl, lengths = self.k1, self.b, self.total / len(self.lengths), self.lengths
        out: dict[str, float] = {}
        for word in query:
            docs = self.postings.get(word)
            if not docs:
                continue
            idf = self.idf(word)
            for doc, tf in docs.items():
                out[doc] = out.get(doc, 0.0) + idf * (
                    tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[doc] / avgdl)))
        return out


class SimilarCasesStalled(Exception):
    """A stored event the index cannot read or apply: it stops before it, never skips it."""

    def __init__(self, position: int, case_id: str, error: BaseException):
        self.position, self.case_id, self.error = position, case_id, error
        super().__init__(f"cannot index event {position} (case {case_id}): {error!r}")


def _interned(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sys.intern(v) for v in values)


class SimilarCases:
    """BM25 over the answered cases, refreshed from the event log on each query. One per
    process, owned by the composition root (``Root.similar_cases``), which hands it to the
    routes, the CLI and the ``SimilarCasesFollower``. Each Registered and Answered updates the
    postings in place, so a search after an answer costs its query terms' postings, not a
    rebuild over every answered case."""

    def __init__(self, app: Any):
        self.app = app
        self.position = 0
        self._cases: dict[str, Candidate] = {}
        self._bm25 = Bm25()
        self._lock = threading.Lock()

    def refresh(self, batch: int = 5000) -> None:
        """Applies the events after ``position``; a case event that cannot be decoded or
        applied raises ``SimilarCasesStalled`` naming it, after the ones before it are applied
        (never skipped: the index stops there until it can be; workflows/decoding.py). Only
        the events it uses, and unknown case events, are decoded (``decodes``)."""
        while True:  # the lock is held per batch: a query waits for one batch, not the log
            with self._lock:
                notes = self.app.recorder.select_notifications(
                    start=self.position, limit=batch, inclusive_of_start=False)
                if not notes:
                    return
                for note in notes:
                    if decodes(note.topic):
                        try:
                            self.apply([decode(self.app, note)])
                        except Exception as error:  # named, never skipped
                            raise SimilarCasesStalled(note.id, str(note.originator_id),
                                                      error) from error
                    self.position = note.id

    def apply(self, events: Iterable[Any]) -> None:
        for e in events:
            if isinstance(e, ev.Registered):
                key = str(e.originator_id)
                if key in self._bm25:  # registered again: it leaves the answered corpus
                    self._bm25.remove(key)
                self._cases[key] = Candidate(
                    key, e.subject, sys.intern(e.category),
                    _interned(u for u in (e.received_by, e.location.district,
                                          e.location.street) if u),
                    _interned(tokens(f"{e.subject} {e.content}")))
            elif isinstance(e, ev.Answered):
                case = self._cases.get(str(e.originator_id))
                if case is None:
                    continue
                if case.pending is not None:  # first answer: into the corpus
                    self._bm25.add(case.case_id, case.pending)
                    case.pending = None
                case.answered = (e.answer, sys.intern(e.unit))  # a re-answer replaces

    def search(self, text: str, *, limit: int = 5, units: Collection[str] | None = None,
               exclude: str | None = None, visible: Callable[[str], bool] | None = None
               ) -> list[dict[str, Any]]:
        """The ``limit`` answered cases most similar to ``text`` (within ``units``, if given),
        among those ``visible`` admits: a caller's reach, which depends on the case's current
        holder and responsible unit, not on where it was registered. An event the index is
        stalled on does not refuse the query: it answers from the cases before it (readiness
        names the stall). Ties rank by case id."""
        try:
            self.refresh()
        except SimilarCasesStalled:
            pass
        words = tokens(text)
        if not words:
            return []
        scope = set(units) if units is not None else None
        with self._lock:
            scored = self._bm25.scores(words)
            ranked = sorted(((-s, doc) for doc, s in scored.items() if s > 0))
            found = [(-negative, self._cases[doc]) for negative, doc in ranked]
        out = []
        for score, d in found:
            if d.case_id == exclude or d.answered is None or (
                    scope is not None and not scope.intersection(d.places)) or (
                    visible is not None and not visible(d.case_id)):
                continue
            answer, unit = d.answered
            out.append({"case_id": d.case_id, "score": round(float(score), 4),
                        "subject": d.subject, "category": d.category, "answer": answer,
                        "answered_by": unit})
            if len(out) == limit:
                break
        return out

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

    def progress(self, end: int) -> dict[str, int]:
        """How far the index has read, for /readyz: its position and how many events of a log
        ending at ``end`` it has still to read (a process catching up is ready meanwhile:
        queries answer from the cases read so far)."""
        position = self.index.position  # not health's "position": the event a stall names
        return {"caught_up_to": position, "behind": max(0, end - position)}

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
