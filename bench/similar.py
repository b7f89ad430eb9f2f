"""Figure 7: similar-case search, precision@5 on families of near-duplicate petitions.

Every petition of the labelled set (``adapters/synthetic/families.py``) is registered and
answered through the application (the answer names its family); then each one's text is
searched, itself excluded, and precision@5 is the share of the five results from its own
family (a missing result counts as a miss). Baseline: the precision a random ranking expects.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.synthetic.families import near_duplicates
from bench.common import DISTRICT, STREET, Figure, Run
from projections.similar_cases import SimilarCases
from workflows import commands as c

K = 5


def precision_at_5(run: Run, per_family: int, tick: Callable[[], None]) -> Figure:
    app = run.place("sqlite", "similar").app()
    texts = near_duplicates(per_family)
    cases = []
    for family, text in texts:
        cid = app.register(c.RegisterPetition(
            actor="bench", channel="online", subject="群众来信", content=text, category=family,
            location=c.LocationIn(district=DISTRICT, street=STREET), received_by=DISTRICT,
            petitioner=c.PetitionerIn(name="王小明", id_number="11010519491231002X",
                                      phone="13800000000"))).case_id
        app.execute(c.AcceptPetition(case_id=cid, actor="i", handling_track="claim",
                                    speed_track="general"))
        app.execute(c.DelegatePetition(case_id=cid, actor="d", unit=STREET, note="n"))
        app.execute(c.AnswerPetition(case_id=cid, actor="h", unit=STREET, answer=family))
        cases.append((str(cid), family, text))
    tick()
    index = SimilarCases(app)
    hits = sum(sum(found["answer"] == family
                   for found in index.search(text, limit=K, exclude=cid))
               for cid, family, text in cases)
    tick()
    app.close()
    precision = hits / (K * len(cases))
    mates = len(texts) // len({f for f, _ in texts}) - 1
    random_expectation = mates / (len(texts) - 1)
    return Figure(7, "similar cases: precision@5 (jieba + BM25)", precision, "",
                  "random ranking", random_expectation, "≥ 0.8", precision >= 0.8,
                  detail={"petitions": len(texts), "families": len({f for f, _ in texts}),
                          "per_family": per_family * 2})
