"""Deletes blobs no event names, once they are old enough (`petition blobs sweep`).

A citizen's files are stored when the filing form is accepted, before the phone code; a filing
never verified leaves blobs that no event will ever name. The sweep deletes those — and only
those — once they are older than a grace period well past a draft's life (ten minutes), so a
filing still waiting for its code keeps its files.

Order matters, so a sweep never deletes a blob an event names:
1. list the blobs last written before the cutoff (the candidates);
2. then read every ``AttachmentAdded`` in the log (an event appended before this read is seen);
3. delete a candidate no event names only if it is *still* older than the cutoff, looked at
   again just before deleting. A blob that a new draft hands in again is re-put, which renews
   its time (``BlobStore.put``), so it is kept; if the sweep deleted it first, the put found it
   missing and wrote it anew.
The one window left is a re-put landing between step 3's look and its delete (a few
milliseconds, for a file abandoned longer than the grace period and handed in again at that
instant): its draft's filing would then name a missing blob, a download answering 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapters.blobs.port import BlobStore

MIN_AGE = timedelta(hours=1)  # far past a draft's ten minutes (adapters/pages/filing.py)


@dataclass
class SweepReport:
    examined: int = 0  # blobs in the store
    old: int = 0  # of which written before the cutoff
    named: int = 0  # of those, named by an event (kept)
    deleted: list[str] = field(default_factory=list)  # SHA-256 of the deleted (or, dry: would be)


def sweep(blobs: BlobStore, referenced: Callable[[], set[str]], *, now: datetime,
          older_than: timedelta, dry_run: bool = False) -> SweepReport:
    """Deletes the blobs older than ``older_than`` that ``referenced()`` does not name."""
    if older_than < MIN_AGE:
        raise ValueError(f"--older-than must be at least {MIN_AGE} (a draft waits for its "
                         "phone code with its files stored)")
    cutoff = now - older_than
    report = SweepReport()
    candidates = []
    for sha256, written in blobs.entries():
        report.examined += 1
        if written < cutoff:
            candidates.append(sha256)
    report.old = len(candidates)
    if not candidates:
        return report
    named = referenced()  # read after the listing: see the module's docstring
    for sha256 in candidates:
        if sha256 in named:
            report.named += 1
        elif dry_run or blobs.delete_if_older(sha256, cutoff):
            report.deleted.append(sha256)
    return report
