"""The demo's group petitions (集体访) are planned against their own, shorter answer limit."""

from __future__ import annotations

from adapters.synthetic.demo import DemoDistrict
from domain import events as ev
from domain.deadlines import DeadlineKind


def test_group_petitions_are_late_about_as_often_as_other_cases(app, clock):
    """The demo draws about one answer in eight late, whatever the case. Planned against the
    general 60-day limit, group petitions (30 working days) came out late one time in four,
    against one in seven for the others (seed 11: 21 of 86 against 119 of 870)."""
    DemoDistrict(app, seed=11, now=clock.now(), days=365).run(1200)
    counts = {True: [0, 0], False: [0, 0]}  # group petition → [late, answered]
    seen = set()
    for notification in app.recorder.select_notifications(1, 10**6, topics=[
            f"{ev.Answered.__module__}:{ev.Answered.__qualname__}"]):
        if notification.originator_id in seen:  # a reopened case's later answer
            continue
        seen.add(notification.originator_id)
        petition = app.get_petition(notification.originator_id,
                                    version=notification.originator_version - 1)
        answered = app.get_petition(notification.originator_id,
                                    version=notification.originator_version).answered_at
        deadline = app.policy.answer_deadline(petition)  # as it stood when answered
        assert deadline is not None and deadline.kind is DeadlineKind.ANSWER
        assert answered is not None
        counts[petition.group_petition][0] += answered >= deadline.expires_at
        counts[petition.group_petition][1] += 1
    (group_late, group), (other_late, other) = counts[True], counts[False]
    assert group >= 50 and other >= 500
    assert group_late / group < 1.5 * other_late / other, counts
