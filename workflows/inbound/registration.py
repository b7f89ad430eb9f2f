"""Registering translated work orders, exactly once per (source, external id).

The order's identity is the idempotency key: the case, its query-code index, the origin and
the idempotency record are saved atomically, so an order delivered again — after a consumer
crashed between registering and committing its offset, or sent twice by the source — finds the
record and returns the first registration, appending nothing. The same external id with a
different order is refused (``IdempotencyKeyReused``), which the consumer dead-letters. A poll's
orders are registered in one save (one commit, not one per order).
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import DomainError
from workflows.application import (
    Idempotency,
    IdempotentRegistration,
    PetitionApplication,
    Registration,
)
from workflows.inbound.mapping import Mapped
from workflows.inbound.origin import ExternalRef


def idempotent(order: Mapped) -> IdempotentRegistration:
    ref = ExternalRef(order.source, order.external_id)
    return order.command, Idempotency(ref.idempotency_scope, order.external_id), ref


def register_order(app: PetitionApplication, order: Mapped) -> Registration:
    cmd, idempotency, origin = idempotent(order)
    return app.register(cmd, idempotency=idempotency, origin=origin)


def register_orders(app: PetitionApplication, orders: Sequence[Mapped]
                    ) -> list[Registration | DomainError]:
    """Each order's registration (first or replayed) or the error that refused it."""
    return app.register_all([idempotent(order) for order in orders])
