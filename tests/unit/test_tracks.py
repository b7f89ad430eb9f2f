"""Tracks (分类处理): which obligations each handling track owes, from the policy's [tracks].
信访工作条例 Art. 35 gives review and re-review to claims (申诉求决类) answered with a written
opinion; suggestions and reports are answered and not reviewed."""

from __future__ import annotations

import pytest

from domain.deadlines import PolicyRules
from domain.errors import IllegalTransition, InvalidCommand
from domain.values import HandlingTrack, SpeedTrack, Status
from tests.unit.builders import later, plain_policy, register


def _answered(org, policy, track: HandlingTrack):
    p = register(org)
    p.accept(at=later(p), actor="i", handling_track=track, speed_track=SpeedTrack.GENERAL, policy=policy)
    p.delegate(at=later(p), actor="i", unit="S11", mode="assign", note="", org=org)
    p.answer_petition(at=later(p), actor="h", unit="S11", answer="答复", policy=policy)
    p.collect_events()
    return p


# (track, may ask for review?)
TRACKS = [(HandlingTrack.CLAIM, True), (HandlingTrack.SUGGESTION, False),
          (HandlingTrack.REPORT, False)]


@pytest.mark.parametrize(("track", "reviewable"), TRACKS)
def test_only_tracks_with_a_review_have_a_review_window(org, policy, track, reviewable):
    p = _answered(org, policy, track)
    assert (policy.review_window(p) is not None) is reviewable
    if reviewable:
        p.request_review(at=later(p), actor="p", reason="不服", policy=policy)
        assert p.status is Status.UNDER_REVIEW
    else:
        assert policy.current(p) is None  # nothing runs after the answer of a suggestion
        with pytest.raises(IllegalTransition, match="track has no review"):
            p.request_review(at=later(p), actor="p", reason="不服", policy=policy)
        assert not p.collect_events()


def test_a_track_without_re_review_stops_after_the_review(org):
    policy = plain_policy(tracks={"suggestion": ("answer",), "report": ("answer",),
                                  "claim": ("answer", "review")})
    p = _answered(org, policy, HandlingTrack.CLAIM)
    p.request_review(at=later(p), actor="p", reason="不服", policy=policy)
    p.decide_review(at=later(p), actor="r", unit="D1", outcome="upheld", opinion="维持", org=org, policy=policy)
    p.collect_events()
    assert policy.re_review_window(p) is None
    with pytest.raises(IllegalTransition, match="track has no re-review"):
        p.request_re_review(at=later(p), actor="p", reason="不服", policy=policy)


@pytest.mark.parametrize("tracks", [
    {"suggestion": ("answer",), "report": ("answer",)},  # claim missing
    {"suggestion": ("answer",), "report": ("answer",), "claim": ("review",)},  # no answer
    {"suggestion": ("answer",), "report": ("answer",), "claim": ("answer", "re_review")},
    {"suggestion": ("answer",), "report": ("answer",), "claim": ("answer",), "gossip": ()},
    {"suggestion": ("answer", "appeal"), "report": ("answer",), "claim": ("answer",)},
])
def test_bad_tracks_are_refused_by_name(tracks):
    with pytest.raises(InvalidCommand, match=r"\[tracks\]|handling track"):
        PolicyRules(tracks=tracks)


def test_the_packaged_policy_gives_review_to_claims_only():
    from adapters.policy_file import load_policy

    rules = load_policy().rules
    assert [t for t in HandlingTrack if rules.track_has(t, "review")] == [HandlingTrack.CLAIM]
    assert rules.track_has(HandlingTrack.CLAIM, "re_review")
