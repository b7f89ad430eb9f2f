"""Who petitions about what: the synthetic people and subjects both drivers draw from.

``petition demo`` (``demo.py``) and ``petition simulate`` (``simulation.py``) are two drivers
of one generator: they draw petitioners, identity numbers, phones and subjects here, from the
caller's seeded ``random.Random``, so the same seed gives the same people. The draws consume
the generator in a fixed order; changing that order changes every seeded run.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from workflows.commands import id_number_check_char

CATEGORIES: dict[str, list[tuple[str, str]]] = {
    "urban_management": [("夜间施工噪音扰民 Night-time construction noise",
                          "小区旁工地连续多日夜间施工，严重影响居民休息。"),
                         ("占道经营 Street stalls blocking the road",
                          "菜市场门口摊贩占道经营，行人车辆通行困难。")],
    "housing": [("物业服务纠纷 Property management dispute",
                 "物业公司长期不维修电梯，业主多次反映无果。"),
                ("老旧小区改造 Renovation of an old estate",
                 "小区改造工程拖延一年未完工，楼道堆满建筑垃圾。")],
    "labour_wages": [("拖欠农民工工资 Unpaid migrant workers' wages",
                      "施工单位拖欠二十余名工人工资近半年。")],
    "land_requisition": [("征地补偿 Land requisition compensation",
                          "村集体土地被征收后补偿款迟迟未发放到户。")],
    "environment": [("餐饮油烟污染 Restaurant fumes", "楼下餐馆油烟直排，居民无法开窗。"),
                    ("河道污染 Polluted river", "河道发黑发臭，疑似有企业偷排污水。")],
    "social_security": [("养老保险转移 Pension transfer",
                         "异地养老保险关系转移手续办理困难。")],
    "transport": [("公交线路调整 Bus route change", "公交线路调整后老年人出行不便。")],
    "education": [("入学划片 School catchment", "孩子入学划片与户籍地址不符。")],
}
# The simulation's short list: the first subject of five categories, as (category, subject,
# content). Five entries, because the seeded runs pinned by the tests draw from five.
SHORTLIST = [(category, *CATEGORIES[category][0]) for category in
             ("urban_management", "housing", "labour_wages", "environment", "transport")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
GIVEN_SHORT = "伟芳娜敏静丽强磊军洋"


def subject(rng: random.Random) -> tuple[str, str, str]:
    """Any category, then one of its subjects: (category, subject, content)."""
    category = rng.choice(list(CATEGORIES))
    return (category, *rng.choice(CATEGORIES[category]))


def id_number(rng: random.Random, earliest: date, span_days: int) -> str:
    """A valid 18-character resident identity number of someone born in the span."""
    born = earliest + timedelta(days=rng.randint(0, span_days))
    first17 = f"370102{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + id_number_check_char(first17)


def mobile(rng: random.Random, second_digits: str = "3") -> str:
    """An 11-digit mobile number: ``1``, one of ``second_digits``, nine random digits."""
    second = second_digits if len(second_digits) == 1 else rng.choice(second_digits)
    return f"1{second}" + "".join(str(rng.randint(0, 9)) for _ in range(9))


def group(rng: random.Random, headcount: int) -> list[dict[str, object]]:
    """A group petition's co-petitioners named at intake (集体访): a few of the headcount, the
    first one or two of them representatives (the petitioner is the first; Art. 20)."""
    named = rng.randint(1, min(headcount, 6))
    representatives = rng.randint(1, min(named, 2))
    return [{"name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
             "id_number": id_number(rng, date(1945, 1, 1), 24000), "phone": mobile(rng, "3578"),
             "representative": n < representatives} for n in range(named)]
