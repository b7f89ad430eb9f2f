"""Group petitions (集体访 / 联名): several petitioners on one matter.

信访工作条例 Art. 20: when several people raise the same matter in person they choose
representatives, no more than five. The registered petitioner speaks for the group and counts
as its first representative, so at most four co-petitioners are named representatives. Every
co-petitioner is recorded once (by resident identity number), with personal data like the
petitioner's. A group petition is flagged for leadership attention and runs on the policy's
group time limits and ladder (``[group]``, ``[supervision.group]``).
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import InvalidCommand
from domain.values import GroupMember, Petitioner

MAX_REPRESENTATIVES = 5
"""Art. 20: representatives of a group visit, the registered petitioner included."""


def check_new_member(petitioner: Petitioner, members: Sequence[GroupMember],
                     person: Petitioner, representative: bool) -> None:
    """Refuses a person already recorded and a sixth representative."""
    known = {petitioner.id_number, *(m.person.id_number for m in members)}
    if person.id_number in known:
        raise InvalidCommand("this person is already recorded on the petition")
    if representative and representatives(members) >= MAX_REPRESENTATIVES:
        raise InvalidCommand(f"a group has at most {MAX_REPRESENTATIVES} representatives, "
                             "the petitioner included (信访工作条例 Art. 20)")


def representatives(members: Sequence[GroupMember]) -> int:
    """The petitioner and every co-petitioner named representative."""
    return 1 + sum(1 for m in members if m.representative)
