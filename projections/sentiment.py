"""Complaint sentiment of a petitioner's rating comment: a small documented lexicon.

Why a lexicon and not a package: the Chinese sentiment packages on PyPI (SnowNLP and the
like) are trained on product reviews, unmaintained for years, and give a probability nobody
can explain to a unit that is judged by it. The comments here are short, in a narrow domain
(the answer was slow, evasive, did not solve it), so a list of complaint phrases that an
operator can read and extend answers the question asked — "did the petitioner voice a
complaint?" — and every verdict can be traced to the phrase that matched.

Limits (docs/analytics.md): no irony, no complaint phrased without a listed word, negations
only for the listed "not satisfied" forms; a comment that names both praise and a complaint
counts as a complaint. It is reported as a share with its numerator and denominator, never
used to score a single case.
"""

from __future__ import annotations

NEGATIVE = (
    "不满意", "不满", "太慢", "拖延", "拖拉", "推诿", "推脱", "踢皮球", "敷衍", "糊弄", "应付",
    "态度差", "态度恶劣", "态度不好", "没有解决", "没解决", "未解决", "不解决", "没人管", "无人管",
    "不作为", "乱作为", "失望", "气愤", "愤怒", "投诉", "差劲", "太差", "不合理", "不公平",
    "答非所问", "石沉大海", "没有回音", "没有下文", "反复", "又没", "还是没",
)
POSITIVE = (
    "满意", "感谢", "谢谢", "及时", "解决了", "已解决", "很快", "热情", "耐心", "负责", "点赞",
    "认真", "高效", "辛苦",
)


def comment_sentiment(comment: str | None) -> str | None:
    """``negative`` if the comment holds a complaint phrase, else ``positive`` if it holds
    praise, else ``neutral``; ``None`` for an empty comment (not counted)."""
    text = (comment or "").strip()
    if not text:
        return None
    if any(word in text for word in NEGATIVE):
        return "negative"
    if any(word in text for word in POSITIVE):
        return "positive"
    return "neutral"
