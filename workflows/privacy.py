"""Who sees which personal data (个人信息): one table per audience, used by every output.

Every output of case data — the case and its history for staff (HTTP, CLI), the audit trail,
the Kafka envelope and the ``/events`` feed, the petitioner's ``/status`` and pages — passes
its plain data through ``disclose`` with its audience, so what each reader sees is decided
here and nowhere else (docs/architecture.md, "Privacy", prints the table).

Staff and subscribers see every field the table does not name; the petitioner sees only what
an allow-list names (their case's public fields, the public steps of its history), because
internal notes, actors, supervision letters and proxy contacts are not theirs to read.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Any

REDACTED = "<redacted>"


class Audience(StrEnum):
    PETITIONER = "petitioner"  # 信访人: the query code's holder (/status, the pages)
    STAFF = "staff"  # a staff token, or the CLI, without the pii scope
    STAFF_PII = "staff_pii"  # a staff token with the pii scope, or the CLI's --pii
    AUDITOR = "auditor"  # the audit trail as stored, and /history without the pii scope
    AUDITOR_PII = "auditor_pii"  # /history read with the pii scope
    SUBSCRIBER = "subscriber"  # downstream systems: the Kafka envelope, the /events feed


class Treatment(StrEnum):
    SHOWN = "shown"
    REDACTED = "redacted"  # the key stays, its value becomes the REDACTED marker
    REMOVED = "removed"  # the key is dropped


A, T = Audience, Treatment
_ADDRESS = {A.PETITIONER: T.REMOVED, A.STAFF: T.SHOWN, A.STAFF_PII: T.SHOWN,
            A.AUDITOR: T.REMOVED, A.AUDITOR_PII: T.REMOVED, A.SUBSCRIBER: T.SHOWN}

_FILE_NAME = {A.PETITIONER: T.SHOWN, A.STAFF: T.REDACTED, A.STAFF_PII: T.SHOWN,
              A.AUDITOR: T.REDACTED, A.AUDITOR_PII: T.REDACTED, A.SUBSCRIBER: T.REDACTED}

# field (a dotted path into the plain data; a list's items share its path) → audience →
# treatment
PERSONAL_DATA: dict[str, dict[Audience, Treatment]] = {
    # name, ID number and phone of the petitioner (encrypted at rest)
    "petitioner": {A.PETITIONER: T.REMOVED, A.STAFF: T.REDACTED, A.STAFF_PII: T.SHOWN,
                   A.AUDITOR: T.REDACTED, A.AUDITOR_PII: T.SHOWN, A.SUBSCRIBER: T.REDACTED},
    # each co-petitioner of a group petition (集体访 / 联名), as the petitioner: the event's
    # field and the case's list of members
    "co_petitioner": {A.PETITIONER: T.REMOVED, A.STAFF: T.REDACTED, A.STAFF_PII: T.SHOWN,
                      A.AUDITOR: T.REDACTED, A.AUDITOR_PII: T.SHOWN, A.SUBSCRIBER: T.REDACTED},
    "group_members": {A.PETITIONER: T.REMOVED, A.STAFF: T.REDACTED, A.STAFF_PII: T.SHOWN,
                      A.AUDITOR: T.REDACTED, A.AUDITOR_PII: T.SHOWN, A.SUBSCRIBER: T.REDACTED},
    # the petition's free text: may name people; the trail keeps no copy of it
    "content": {A.PETITIONER: T.REMOVED, A.STAFF: T.SHOWN, A.STAFF_PII: T.SHOWN,
                A.AUDITOR: T.REDACTED, A.AUDITOR_PII: T.REDACTED, A.SUBSCRIBER: T.SHOWN},
    # the address and the point can locate a person's home; district and street stay
    "location.address": _ADDRESS,
    "location.lat": _ADDRESS,
    "location.lon": _ADDRESS,
    # the name an attachment was uploaded under (AttachmentAdded, a case's attachments): it
    # may name its owner ("张三身份证.jpg"); the petitioner sees their own files' names
    "file_name": _FILE_NAME,
    "attachments.file_name": _FILE_NAME,
    # staff's files (DocumentAttached, a case's documents): named the same way; the petitioner
    # never gets them (not in their allow-list, no public step)
    "documents.file_name": {**_FILE_NAME, A.PETITIONER: T.REMOVED},
    # the keyed hash of the petitioner's credential: no reader's
    "query_code_hash": dict.fromkeys(Audience, T.REMOVED),
}

# The petitioner's allow-lists: the fields of their case, and the public steps of its history
# (event type → the fields shown beside its date). Everything else is removed for them.
PETITIONER_CASE_FIELDS = frozenset({
    "case_id", "status", "subject", "received_at", "registered_at", "unit", "deadline",
    "answer", "answered_at", "answer_delivered_at", "ratings", "review_window",
    "re_review_window", "extension", "decline_reason", "redirect_to", "attachments", "steps",
})
PUBLIC_STEPS: dict[str, tuple[str, ...]] = {
    "Registered": ("received_by",),
    "Accepted": (),
    "Declined": ("reason", "redirect_to"),
    "Delegated": ("unit",),
    "Escalated": ("to_unit",),
    "DeadlineExtended": ("days", "reason"),
    # the operator's explicit revision of a deadline the petitioner was told: the new and the
    # earlier deadline, not the operator's reason (an internal note of why the policy changed)
    "DeadlineRevised": ("deadline", "previous"),
    "Answered": ("unit", "answer"),
    "Delivered": ("document",),
    "Rated": ("attitude", "efficiency", "quality"),
    "ReviewRequested": (),
    "ReviewDecided": ("unit", "outcome", "opinion"),
    "ReReviewRequested": (),
    "ReReviewDecided": ("unit", "outcome", "opinion"),
    "Closed": (),
    "Reopened": (),
    "Withdrawn": (),
    # 领导接访日 / 视频接访: the public parts only — the unit that receives, the mode, the
    # slot's start and the outcome (the step's own date is shown beside it); not the leader's
    # name (the petitioner sees it in the published slot list while booking, not in the
    # record), not the slot id, not a cancellation's free-text reason (staff may write it)
    "ReceptionBooked": ("unit", "mode", "starts_at"),
    "ReceptionCancelled": (),
    "ReceptionHeld": ("unit", "mode", "outcome"),
}


def staff_audience(pii: bool) -> Audience:
    return Audience.STAFF_PII if pii else Audience.STAFF


def trail_audience(pii: bool) -> Audience:
    return Audience.AUDITOR_PII if pii else Audience.AUDITOR


@lru_cache(maxsize=8192)  # the tables are constants; the relay asks this for every field
def treatment(audience: Audience, path: str, event_type: str | None = None) -> Treatment:
    """How ``audience`` gets the field at ``path`` (of a case, or of an event of that type)."""
    if audience is Audience.PETITIONER:
        if event_type is None:
            allowed = path.split(".")[0] in PETITIONER_CASE_FIELDS
        else:
            allowed = path.split(".")[0] in PUBLIC_STEPS.get(event_type, ())
        if not allowed:
            return Treatment.REMOVED
    return PERSONAL_DATA.get(path, {}).get(audience, Treatment.SHOWN)


def is_public_step(event_type: str) -> bool:
    """Whether the petitioner sees this event in their case's history at all."""
    return event_type in PUBLIC_STEPS


def disclose(audience: Audience, data: dict[str, Any], event_type: str | None = None
             ) -> dict[str, Any]:
    """``data`` (plain: JSON-ready) as ``audience`` may see it; a new dict, the input kept."""
    return _apply(audience, data, "", event_type)


def _apply(audience: Audience, data: dict[str, Any], prefix: str, event_type: str | None
           ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = prefix + key
        how = treatment(audience, path, event_type)
        if how is Treatment.REMOVED:
            continue
        if how is Treatment.REDACTED:
            out[key] = REDACTED
        elif isinstance(value, dict) and has_nested_rules(path):
            out[key] = _apply(audience, value, path + ".", event_type)
        elif isinstance(value, list) and has_nested_rules(path):
            out[key] = [_apply(audience, item, path + ".", event_type)
                        if isinstance(item, dict) else item for item in value]
        else:
            out[key] = value
    return out


@lru_cache(maxsize=8192)
def has_nested_rules(path: str) -> bool:
    """Whether a field inside the one at ``path`` has rules of its own (e.g. ``location``)."""
    return any(p.startswith(path + ".") for p in PERSONAL_DATA)


def reveal(audience: Audience, data: dict[str, Any], originals: dict[str, Any]
           ) -> dict[str, Any]:
    """Puts back values that a stored, redacted form lacks, where ``audience`` may see them
    (the audit trail stores the AUDITOR form; a reader with the pii scope sees the petitioner)."""
    out = dict(data)
    for key, value in originals.items():
        if key in out and treatment(audience, key) is Treatment.SHOWN:
            out[key] = value
    return disclose(audience, out)
