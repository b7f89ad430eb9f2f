"""Imported holiday arrangements: recorded in the event store, put in force in every process."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.holiday_arrangement import (
    HOLIDAY,
    HOLIDAY_ARRANGEMENT_ID,
    HolidayArrangement,
)
from workflows.application import PetitionApplication


def import_arrangement(app: PetitionApplication, days: list[dict[str, Any]], source: str
                       ) -> HolidayArrangement:
    """Records ``days`` (validated rows) as the arrangement of their years and uses them."""
    for _attempt in range(3):  # another import at the same moment: read it and merge again
        try:
            record = app.repository.get(HOLIDAY_ARRANGEMENT_ID)
            record.reimport(days=days, source=source)
        except AggregateNotFoundError:
            record = HolidayArrangement(days=days, source=source)
        try:
            app.save(record)
            break
        except IntegrityError:
            continue
    else:
        raise RuntimeError("the holiday arrangement kept changing; import again")
    _put_in_force(app, record)
    return record


def stored_arrangement(app: PetitionApplication) -> HolidayArrangement | None:
    try:
        return app.repository.get(HOLIDAY_ARRANGEMENT_ID)
    except AggregateNotFoundError:
        return None


def use_stored_arrangement(app: PetitionApplication) -> bool:
    """Puts the imported days in force in this process, if any were imported."""
    record = stored_arrangement(app)
    if record is None:
        return False
    _put_in_force(app, record)
    return True


def _put_in_force(app: PetitionApplication, record: HolidayArrangement) -> None:
    use = getattr(app.policy.rest_days, "use_imported", None)
    if use is not None:  # a test's plain calendar has nothing to add them to
        use({date.fromisoformat(d["date"]): d["kind"] == HOLIDAY for d in record.days})
