"""网上送达: when the petitioner opening their case online delivers its decision.

The first opening of an undelivered written answer or review opinion delivers it, while the
policy's window for online delivery is open (else a deemed delivery came, or comes, first).
One rule for both ways a petitioner opens a case: POST /status and the citizens' pages.
"""

from __future__ import annotations

from domain.petition import Petition
from workflows.application import PetitionApplication


def opens_undelivered(app: PetitionApplication, petition: Petition) -> bool:
    document = petition.undelivered_document
    if document is None or "deliver" not in petition.allowed_commands:
        return False
    decided = petition.review_decided_at if document == "review_opinion" else petition.answered_at
    assert decided is not None
    return app.policy.online_delivery_open(decided, app.clock.now())
