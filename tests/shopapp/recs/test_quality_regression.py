"""Quality regression: the models a shop is trained with by default, on a seeded synthetic
store, must keep their recorded NDCG@10 (leave-one-out, full ranking).

Each kind is built exactly as a shop's retraining builds it (recs/training.py: the same
training settings and overrides; SASRec is the neural kind a shop with enough data is served).
The store is the demo's generator with 1,000 shoppers (15,382 interactions, 975 cases); SASRec
trains its 1,000 steps at least (8 an epoch), so the whole test takes about a minute. A change
that costs a kind more than TOLERANCE of NDCG@10 fails here; a change that gains should record
its new figure (and say so in its commit).

Recorded with the CPU wheel of torch 2.13 on this project's 2-core machine; the same seed gives
the same model (weights initialised under it). The tolerance, 0.012 (about 10% of SASRec's
figure), is about 4 standard deviations of SASRec across training seeds (0.1221, 0.1269, 0.1286,
0.1250 for seeds 0-3): a machine whose arithmetic differs slightly does not fail it.
"""

from __future__ import annotations

import pytest

from recommender.build import build
from recommender.data import Split, leave_one_out
from recommender.evaluate import evaluate
from recommender.synthetic import generate_store
from shopapp.recs.training import FULL_TRAINING, OVERRIDES

RECORDED_NDCG = {"popularity": 0.0401, "covisit": 0.1176, "stan": 0.1126, "sasrec": 0.1266}
TOLERANCE = 0.012


@pytest.fixture(scope="module")
def split() -> Split:
    return leave_one_out(generate_store(n_shoppers=1000).interactions)


@pytest.mark.parametrize("kind", sorted(RECORDED_NDCG))
def test_the_default_models_keep_their_recorded_quality(kind: str, split: Split) -> None:
    built = build(
        kind,
        split.train,
        split.valid,
        timed=True,
        overrides=OVERRIDES.get(kind),
        train_config=FULL_TRAINING,
    )
    ndcg = evaluate(built.model, split.cases, k=10).ndcg
    print(f"{kind} NDCG@10 {ndcg:.4f}")
    assert ndcg >= RECORDED_NDCG[kind] - TOLERANCE, (kind, ndcg)
