"""The state machine: which commands each status allows.

Kept as data so that errors can name the allowed commands and docs can print the table.
Some commands carry further conditions (rate once per answer, extend once per round, review
inside its window); the aggregate checks those after this table.
"""

from __future__ import annotations

from domain.values import Status as S

OPEN_STATUSES = frozenset(S) - {S.DECLINED, S.WITHDRAWN, S.CLOSED}

ALLOWED: dict[str, frozenset[S]] = {
    "accept": frozenset({S.REGISTERED}),
    "decline": frozenset({S.REGISTERED}),
    "concluded-matter": frozenset({S.REGISTERED}),
    "delegate": frozenset({S.ACCEPTED, S.IN_HANDLING}),
    "escalate": frozenset({S.ACCEPTED, S.IN_HANDLING}),
    "extend-request": frozenset({S.IN_HANDLING}),
    "extend": frozenset({S.IN_HANDLING}),
    "supervise": frozenset(
        {S.REGISTERED, S.ACCEPTED, S.IN_HANDLING, S.UNDER_REVIEW, S.UNDER_RE_REVIEW}
    ),
    "entrust": OPEN_STATUSES,
    "revoke-entrustment": OPEN_STATUSES,
    "assign-proxy": OPEN_STATUSES,
    "log-proxy-contact": OPEN_STATUSES,
    "add-co-petitioner": frozenset({S.REGISTERED, S.ACCEPTED, S.IN_HANDLING}),
    "chase-proxy-contact": OPEN_STATUSES,
    "suggest": OPEN_STATUSES | {S.CLOSED},
    "respond-suggestion": OPEN_STATUSES | {S.CLOSED},
    "book-reception": OPEN_STATUSES,
    "cancel-reception": OPEN_STATUSES,
    "remind-reception": OPEN_STATUSES,
    "record-reception": OPEN_STATUSES,
    "answer": frozenset({S.IN_HANDLING}),
    "deliver": frozenset({S.ANSWERED, S.REVIEWED, S.CLOSED}),
    "rate": frozenset({S.ANSWERED, S.CLOSED}),
    "confirm-answer": frozenset(
        {S.ANSWERED, S.UNDER_REVIEW, S.REVIEWED, S.UNDER_RE_REVIEW, S.RE_REVIEWED, S.CLOSED}
    ),
    "review": frozenset({S.ANSWERED, S.CLOSED}),
    "review-decision": frozenset({S.UNDER_REVIEW}),
    "re-review": frozenset({S.REVIEWED, S.CLOSED}),
    "re-review-decision": frozenset({S.UNDER_RE_REVIEW}),
    "close": frozenset({S.ANSWERED, S.REVIEWED, S.RE_REVIEWED}),
    "reopen": frozenset({S.ANSWERED, S.REVIEWED, S.CLOSED}),
    "withdraw": frozenset({S.REGISTERED, S.ACCEPTED, S.IN_HANDLING}),
    "add-attachment": OPEN_STATUSES,
    "attach-document": OPEN_STATUSES,
}


def allowed_commands(status: S) -> tuple[str, ...]:
    """The commands this status admits, in the table's order."""
    return tuple(name for name, states in ALLOWED.items() if status in states)
