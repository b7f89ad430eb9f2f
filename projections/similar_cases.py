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
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
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
    """BM25 (Okapi) over a corpus that grows and changes one document at a time. Each document
    has a slot; a term's postings are two compact arrays (slots, term frequencies), so a
    posting costs 8 bytes; lengths, their count and total are kept as documents come. A query
    scores, with numpy, only the slots of its terms' postings. Scores equal ``rank_bm25``'s
    ``BM25Okapi`` over the same corpus, same arithmetic in the same order (k1, b, epsilon; a
    term in more than half of the documents gets the floor ``epsilon * average idf``, computed
    only when such a term is queried and kept until the corpus changes):
    tests/unit/test_similar_bm25.py."""

    k1, b, epsilon = 1.5, 0.75, 0.25

    def __init__(self) -> None:
        self.postings: dict[str, tuple[array[int], array[int]]] = {}  # term -> (slots, tfs)
        self.slots: dict[str, int] = {}  # document -> its slot
        self.docs: list[str | None] = []  # slot -> document (None: removed)
        self._lengths = np.zeros(1024)  # slot -> number of words
        self.total = 0
        self._average_idf: float | None = None

    def __len__(self) -> int:
        return len(self.slots)

    def __contains__(self, doc: str) -> bool:
        return doc in self.slots

    def add(self, doc: str, words: Iterable[str]) -> None:
        if doc in self.slots:
            self.remove(doc)
        slot = len(self.docs)
        self.docs.append(doc)
        self.slots[doc] = slot
        if slot == len(self._lengths):
            self._lengths = np.concatenate([self._lengths, np.zeros(len(self._lengths))])
        length = 0
        for word, n in Counter(words).items():
            posting = self.postings.get(word)
            if posting is None:
                posting = self.postings[word] = (array("i"), array("i"))
            posting[0].append(slot)
            posting[1].append(n)
            length += n
        self._lengths[slot] = length
        self.total += length
        self._average_idf = None

    def remove(self, doc: str) -> None:
        """Takes ``doc`` out (a walk over the vocabulary: a case is registered once, so this
        is for completeness, not a path that runs)."""
        slot = self.slots.pop(doc, None)
        if slot is None:
            return
        for word, (slots, tfs) in list(self.postings.items()):
            if slot in slots:
                i = slots.index(slot)
                del slots[i], tfs[i]
                if not slots:
                    del self.postings[word]
        self.docs[slot] = None
        self.total -= int(self._lengths[slot])
        self._lengths[slot] = 0
        self._average_idf = None

    def _raw_idf(self, df: int) -> float:
        n = len(self.slots)
        return math.log(n - df + 0.5) - math.log(df + 0.5)

    def idf(self, word: str) -> float:
        posting = self.postings.get(word)
        if not posting:
            return 0.0
        idf = self._raw_idf(len(posting[0]))
        if idf < 0:
            if self._average_idf is None:
                self._average_idf = (sum(self._raw_idf(len(p[0]))
                                         for p in self.postings.values()) / len(self.postings))
            idf = self.epsilon * self._average_idf
        return idf

    def scores(self, query: list[str]) -> dict[str, float]:
        """The score of each document sharing a term with ``query``, accumulated in the query's
        order as rank_bm25 does (a repeated query term counts again)."""
        slots, values = self._scored(query)
        return {self.docs[s] or "": v for s, v in zip(slots.tolist(), values.tolist(),
                                                       strict=True)}

    def _scored(self, query: list[str]) -> tuple[Any, Any]:
        """(slots, scores) of the documents sharing a term with ``query``, as numpy arrays."""
        terms = [(self.idf(w), self.postings[w]) for w in query if w in self.postings]
        if not terms:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        k1, b, avgdl = self.k1, self.b, self.total / len(self.slots)
        score = np.zeros(len(self.docs))
        touched = np.zeros(len(self.docs), dtype=bool)
        for idf, (slots, tfs) in terms:
            at = np.array(slots, dtype=np.intc)  # copies: an array lent out cannot grow
            tf = np.array(tfs, dtype=np.float64)
            score[at] += idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * self._lengths[at] / avgdl)))
            touched[at] = True
        at = np.flatnonzero(touched)
        return at, score[at]

    def ranked(self, query: list[str]) -> Iterator[tuple[float, str]]:
        """(score, document) of the documents scoring above zero, best first, ties by
        document (case id). Scored now (hold the owner's lock for this call only); sorted
        lazily as taken, one group of equal scores at a time."""
        slots, values = self._scored(query)
        keep = values > 0
        order = np.argsort(-values[keep], kind="stable")
        return self._groups(slots[keep][order].tolist(), values[keep][order].tolist())

    def _groups(self, slots: list[int], values: list[float]) -> Iterator[tuple[float, str]]:
        docs, i = self.docs, 0  # slots only ever get added: a snapshot's are still there
        while i < len(values):
            j = i
            while j < len(values) and values[j] == values[i]:
                j += 1
            for doc in sorted(docs[s] or "" for s in slots[i:j]):
                yield values[i], doc
            i = j


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
        with self._lock:  # scored under the lock: apply changes the postings
            ranked = self._bm25.ranked(words)
        out: list[dict[str, Any]] = []
        for score, doc in ranked:
            d = self._cases.get(doc)
            if d is None or d.answered is None or d.case_id == exclude or (
                    scope is not None and not scope.intersection(d.places)) or (
                    visible is not None and not visible(d.case_id)):
                continue
            answer, unit = d.answered  # replaced as one by a re-answer
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
        self.warmed = threading.Event()  # set once the index has read the whole log once

    def warming(self, end: int) -> str | None:
        """Why the process is not ready yet, while the index reads the log for the first time
        since the process started: a cold process on a long log (minutes of a core at a million
        cases, docs/performance.md) answers every request slowly meanwhile, so a load balancer
        should not send it any. A later lag (new events since) does not make it unready."""
        if self.warmed.is_set():
            return None
        return f"similar cases warming up: read to event {self.index.position} of {end}"

    def progress(self, end: int) -> dict[str, int]:
        """How far the index has read, for /readyz: its position and how many events of a log
        ending at ``end`` it has still to read (queries answer from the cases read so far; only
        the first read since start makes the process unready, ``warming``)."""
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
                self.warmed.set()
                pause = self.interval * random.uniform(0.8, 1.2)
            self._stopping.wait(pause)
