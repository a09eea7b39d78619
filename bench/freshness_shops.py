"""The two shops bench/freshness.py measures side by side, prepared in one Django process (import
this module after ``django.setup()``): the demo store served by its popularity model (the
figure the benchmark has always reported), and a store of NEURAL_PRODUCTS products served by a
SASRec champion in its own namespace, as a retraining that chose it would leave it.

Latency does not depend on what the weights learned, so SASRec is trained for one short epoch
(NEURAL_TRAINING) on synthetic sessions: the figures are for serving, not quality. The model is
the real SASRec class over the whole catalogue, registered through the registry, and the
worker loads it as it loads any shop's champion (recs/predictors.py).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from recommender import registry
from recommender.build import build
from recommender.data import hold_out_last
from recommender.neural import NeuralRecommender
from recommender.synthetic import generate_store
from recommender.types import Interaction, TrainConfig
from shopapp.demo.seed import demo_seed, demo_shop_install, synthetic_catalogue_write
from shopapp.recs.services import popular_refresh
from shopapp.recs.training import shop_models_retrain
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.selectors import shop_cache_clear

BASELINE_SHOP = "slipstream-demo.myshopify.com"
NEURAL_SHOP = "bench-neural.myshopify.com"
# 10 categories x 2,500: the catalogue of 25,000 products.
NEURAL_CATEGORIES, NEURAL_PER_CATEGORY = 10, 2_500
NEURAL_PRODUCTS = NEURAL_CATEGORIES * NEURAL_PER_CATEGORY
NEURAL_SHOPPERS = 3_000
NEURAL_TRAINING = TrainConfig(max_epochs=1, patience=1, max_seconds=30.0, threads=2, progress=False)


def shops_prepare() -> dict[str, dict[str, Any]]:
    """Both shops, ready to serve; per shop its tracking key, product ids and how it serves."""
    return {"popularity": _baseline(), "sasrec": _neural()}


def _baseline() -> dict[str, Any]:
    products = demo_seed(shop=BASELINE_SHOP, say=lambda m: None)
    # Popularity alone: what serves is then the kind the baseline names, whatever a neural kind
    # would have scored on the demo's holdout day.
    decision = shop_models_retrain(shop=BASELINE_SHOP, kinds=("popularity",))
    if decision is None or decision.serving_kind != "popularity":
        raise RuntimeError(f"the baseline must serve popularity: {decision}")
    popular_refresh(shop=BASELINE_SHOP)
    return {
        "shop": BASELINE_SHOP,
        "key": Shop.objects.get(domain=BASELINE_SHOP).tracking_key,
        "items": [p.item_id for p in products],
        "serving": f"popularity v{decision.serving_version}",
    }


def _neural() -> dict[str, Any]:
    demo_shop_install(shop=NEURAL_SHOP)
    store = generate_store(
        n_categories=NEURAL_CATEGORIES,
        products_per_category=NEURAL_PER_CATEGORY,
        n_shoppers=NEURAL_SHOPPERS,
        now=time.time(),
    )
    # Serving joins the catalogue: every product the model may recommend has its row.
    synthetic_catalogue_write(shop=NEURAL_SHOP, products=store.products)
    end = max(i.ts for i in store.interactions)
    train, valid = hold_out_last(store.interactions, since=end - 86_400.0)
    # Bestsellers leave most of a Zipf catalogue unseen: one pass over every product makes the
    # vocabulary the whole catalogue, as a large shop's would be.
    start = end - 30 * 86_400.0
    train += [
        Interaction("catalogue", p.item_id, "view", start + n) for n, p in enumerate(store.products)
    ]
    started = time.perf_counter()
    built = build("sasrec", train, valid, timed=True, train_config=NEURAL_TRAINING)
    train_s = time.perf_counter() - started
    model = built.model
    if not isinstance(model, NeuralRecommender) or len(model.vocab) - 1 != NEURAL_PRODUCTS:
        raise RuntimeError(f"the model must span the {NEURAL_PRODUCTS:,} products")
    row = Shop.objects.get(domain=NEURAL_SHOP)
    version = registry.log_and_register(
        model=model,
        metrics={},
        params=built.params,
        tracking_uri=settings.MLFLOW_TRACKING_URI,
        artifact_location=settings.MLFLOW_ARTIFACT_ROOT,
        alias="champion",
        namespace=row.model_namespace,
    )
    ShopSettings.objects.update_or_create(shop=row, defaults={"serving_kind": model.kind})
    shop_cache_clear()
    popular_refresh(shop=NEURAL_SHOP)
    return {
        "shop": NEURAL_SHOP,
        "key": row.tracking_key,
        "items": [p.item_id for p in store.products],
        "serving": f"sasrec v{version}",
        "training": {
            "interactions": len(train),
            "vocabulary": len(model.vocab) - 1,
            "epochs": len(built.result.epochs),
            "seconds": round(train_s, 1),
            "config": "max_epochs=1, max_seconds=30, threads=2",
        },
    }
