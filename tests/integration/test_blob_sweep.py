"""The blob sweep deletes files of filings never verified, and never a blob an event names:
on SQLite and PostgreSQL, with the folder and with an S3 bucket (a real S3 protocol server)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from adapters.blobs.sweep import sweep
from domain.values import Attachment
from tests.blob_stores import Blobs
from tests.integration.helpers import register_command
from tests.sample_files import pdf, png
from workflows.application import PetitionApplication
from workflows.attachment_references import referenced_blobs

GRACE = timedelta(days=2)


def attach(app: PetitionApplication, blobs: Blobs, data: bytes, name: str) -> str:
    sha = blobs.store.put(data)
    app.register(register_command(content=f"附件 {name} 的事项。"),
                 attachments=(Attachment(sha, "image/png", len(data), name),))
    return sha


def test_only_old_blobs_no_event_names_are_deleted(app: PetitionApplication,
                                                   blobs: Blobs) -> None:
    now = app.clock.now()
    filed = attach(app, blobs, png(seed=1), "filed.png")
    abandoned = blobs.store.put(png(seed=2))  # a draft whose phone code never came back
    waiting = blobs.store.put(png(seed=3))  # a draft still waiting for its code
    for sha in (filed, abandoned):
        blobs.backdate(sha, now - GRACE - timedelta(hours=1))
    assert referenced_blobs(app) == {filed}

    dry = sweep(blobs.store, lambda: referenced_blobs(app), now=now, older_than=GRACE,
                dry_run=True)
    assert (dry.examined, dry.old, dry.named, dry.deleted) == (3, 2, 1, [abandoned])
    assert blobs.store.get(abandoned) == png(seed=2)  # a dry run deletes nothing

    report = sweep(blobs.store, lambda: referenced_blobs(app), now=now, older_than=GRACE)
    assert report.deleted == [abandoned]
    assert blobs.store.get(abandoned) is None
    assert blobs.store.get(filed) == png(seed=1) and blobs.store.get(waiting) == png(seed=3)
    again = sweep(blobs.store, lambda: referenced_blobs(app), now=now, older_than=GRACE)
    assert again.deleted == [] and again.examined == 2


def test_a_file_handed_in_again_while_the_sweep_runs_is_kept(app: PetitionApplication,
                                                             blobs: Blobs) -> None:
    """The listing comes first; a filing that names an old blob meanwhile re-puts it (which
    renews its time) and appends its event before or after the log is read: either way the
    blob stays."""
    now = app.clock.now()
    before, after = png(seed=4), pdf()
    old = [blobs.store.put(before), blobs.store.put(after)]
    for sha in old:
        blobs.backdate(sha, now - GRACE - timedelta(days=1))

    def read_log_while_citizens_file() -> set[str]:
        attach(app, blobs, before, "before.png")  # named before the log is read
        named = referenced_blobs(app)
        attach(app, blobs, after, "after.pdf")  # named only after it was read
        return named

    report = sweep(blobs.store, read_log_while_citizens_file, now=now, older_than=GRACE)
    assert report.old == 2 and report.deleted == []
    assert blobs.store.get(old[0]) == before and blobs.store.get(old[1]) == after
    assert referenced_blobs(app) == {hashlib.sha256(before).hexdigest(),
                                     hashlib.sha256(after).hexdigest()}


def test_a_grace_period_shorter_than_an_hour_is_refused(app: PetitionApplication,
                                                        blobs: Blobs) -> None:
    blobs.store.put(png(seed=5))
    with pytest.raises(ValueError, match="at least"):
        sweep(blobs.store, set, now=app.clock.now(), older_than=timedelta(minutes=30))
    assert len(list(blobs.store.entries())) == 1


def test_files_added_later_by_petitioner_or_staff_are_named_too(app: PetitionApplication,
                                                                blobs: Blobs) -> None:
    from workflows import commands as c

    case_id = app.register(register_command()).case_id
    later, document = png(seed=6), pdf()
    for kind, data, actor in ((c.AddAttachment, later, "petitioner"),
                              (c.AttachDocument, document, "handler:QH-D01-S01")):
        app.execute(kind(case_id=case_id, actor=actor, sha256=blobs.store.put(data),
                         media_type="image/png", size=len(data), file_name="f"))
    named = referenced_blobs(app)
    assert named == {hashlib.sha256(later).hexdigest(), hashlib.sha256(document).hexdigest()}
    for sha in named:
        blobs.backdate(sha, app.clock.now() - GRACE * 3)
    report = sweep(blobs.store, lambda: referenced_blobs(app), now=app.clock.now(),
                   older_than=GRACE)
    assert report.named == 2 and report.deleted == []
