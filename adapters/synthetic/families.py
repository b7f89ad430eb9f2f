"""Families of near-duplicate petitions: a labelled set for measuring similar-case search.

A family is one matter (an unrepaired lift, unpaid wages, restaurant fumes …) raised at a few
places by different petitioners in their own words: one of three phrasings that all name the
matter's key thing, a place, a time span and a plea of their own, the place said first or
last. Petitions of one family should find each other first — their answers are the ones worth
suggesting; precision@5 over the set is the bench's figure (``bench/similar.py``). Places,
spans and pleas are shared across families: they are the noise. Seeded.
"""

from __future__ import annotations

import random

FAMILIES: dict[str, list[str]] = {  # every phrasing of a matter names its key thing
    "elevator": ["物业不维修电梯", "小区电梯坏了物业不修", "电梯长期故障物业拒绝维修电梯"],
    "wages": ["施工单位拖欠工人工资", "包工头拖欠农民工工资不发", "工地拖欠工资半年讨薪无门"],
    "fumes": ["楼下餐馆油烟直排", "饭店油烟污染居民无法开窗", "餐饮店排油烟扰民"],
    "night_noise": ["工地夜间施工噪音扰民", "深夜施工噪音影响休息", "夜里工地打桩施工噪音太大"],
    "river": ["河道发黑发臭", "河道被污染有臭味", "企业向河道偷排污水"],
    "stalls": ["摊贩占道经营堵塞道路", "菜市场门口摊贩占道摆摊", "流动摊贩占道占用人行道"],
    "compensation": ["征地补偿款未发放", "土地被征收后征地补偿款迟迟不到位",
                     "征地补偿款被截留"],
    "pension": ["养老保险关系转移困难", "异地养老保险转移手续办不下来", "养老保险跨省转移受阻"],
    "bus": ["公交线路调整后出行不便", "公交站点撤销老人出行难", "公交线路改线后没有公交坐"],
    "school": ["孩子入学划片不合理", "入学划片与户籍地址不符", "子女就近入学划片被拒"],
    "renovation": ["老旧小区改造工程拖延", "小区改造工程一年未完工",
                   "老旧小区改造停工楼道堆满垃圾"],
    "parking": ["小区停车位被外来车辆占用", "小区停车位乱收费", "物业私自出租公共停车位"],
    "water": ["小区自来水水压不足", "高层住户自来水经常停水", "自来水发黄有异味"],
    "heating": ["冬季暖气不热", "暖气供暖温度不达标", "交了取暖费暖气还是冰凉"],
    "dog": ["小区有人遛狗不拴绳", "流浪狗伤人无人管理", "邻居养大型犬狗叫扰民"],
    "streetlight": ["路灯坏了很久没人修", "小区路灯不亮晚上出行危险", "道路路灯损坏未修复"],
}
PLACES = ["文昌街道", "解放街道", "新华街道", "河西街道", "柳园街道", "南湖街道", "枫林街道"]
ESTATES = ["幸福小区", "阳光花园", "翠湖苑", "建设新村", "和平里", "春晖家园", "锦绣华庭",
           "金桥小区"]
SPANS = ["一个月", "两个多月", "半年", "近一年", "好几周"]
PLEAS = ["请尽快处理。", "希望有关部门重视。", "多次打电话没有结果。", "请给个说法。",
         "恳请领导督办。"]


def near_duplicates(per_family: int, places_per_matter: int = 2,
                    seed: int = 14) -> list[tuple[str, str]]:
    """``per_family`` texts of every family, as (family label, text), in a seeded order;
    each kind of matter happens at ``places_per_matter`` places (one family each)."""
    rng = random.Random(seed)
    out = []
    for matter, cores in FAMILIES.items():
        for _ in range(places_per_matter):
            place = f"{rng.choice(PLACES)}{rng.choice(ESTATES)}{rng.randint(1, 30)}号楼"
            for _ in range(per_family):
                core, span, plea = rng.choice(cores), rng.choice(SPANS), rng.choice(PLEAS)
                text = (f"{place}{core}，已经{span}了。{plea}" if rng.random() < 0.5
                        else f"{core}，已经{span}了，地点在{place}。{plea}")
                out.append((matter, text))
    rng.shuffle(out)
    return out
