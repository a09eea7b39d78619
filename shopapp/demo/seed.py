"""The demo's first start: a synthetic store, its history, and a first model in the registry."""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from django.db.models import Value
from django.db.models.functions import Concat

from recommender.synthetic import Product as SyntheticProduct
from recommender.synthetic import generate_store, write_interactions_csv
from shopapp.demo.images import demo_image_url
from shopapp.events.services import interactions_import
from shopapp.recs.champions import decision_latest
from shopapp.recs.models import Product
from shopapp.recs.services import products_upsert
from shopapp.recs.training import shop_models_retrain
from shopapp.shopify.appconfig import app_scopes
from shopapp.shopify.auth import OfflineToken
from shopapp.shops.services import shop_install

# What the demo trains at its first start: SLi-Rec too would double the wait (docs/benchmarks.md).
DEMO_KINDS = ("popularity", "covisit", "sasrec")
DEMO_NEURAL_BUDGET_S = 45.0
# Enough shoppers that the holdout day has the cases a learned model needs to be allowed to win
# (recs/training.py:NEURAL_MIN_CASES).
DEMO_SHOPPERS = 2000
# What the demo shop's credential holds: no Shopify ever issued it, none accepts it.
DEMO_ACCESS_TOKEN = "demo-placeholder-not-a-shopify-token"


def demo_shop_install(*, shop: str) -> None:
    """Install the demo shop as the admin's first visit would, without Shopify.

    A real install trades the admin's session token for an offline access token (token exchange,
    web/auth.py); the demo has no Shopify to trade with, so it keeps a placeholder that never
    expires: the dashboard opens at once, no refresh is ever due, and whatever would call Shopify
    with it is sent to a closed local port (SHOPIFY_ORIGIN_OVERRIDE, the demo command)."""
    shop_install(
        domain=shop,
        token=OfflineToken(
            shop=shop,
            access_token=DEMO_ACCESS_TOKEN,
            scopes=app_scopes(),
            expires_at=None,
            refresh_token=None,
            refresh_token_expires_at=None,
        ),
    )


def synthetic_catalogue_write(*, shop: str, products: Sequence[SyntheticProduct]) -> int:
    """A synthetic catalogue as the shop's catalogue rows, each product with its drawn image."""
    return products_upsert(
        shop=shop,
        products=[
            {
                "product_id": p.item_id,
                "handle": p.handle,
                "title": p.title,
                "category": p.category,
                "price": p.price,
                "image_url": p.image_url or demo_image_url(p.item_id),
                "available": p.available,
            }
            for p in products
        ],
    )


def demo_seed(*, shop: str, say: Callable[[str], None]) -> list[SyntheticProduct]:
    """Install the demo shop and load its catalogue and history, once; returns the catalogue.
    Every product gets its drawn image (demo/images.py), even in a catalogue made before them."""
    demo_shop_install(shop=shop)
    existing = Product.objects.filter(shop__domain=shop).order_by("product_id")
    if existing.exists():
        say("store: already generated (delete var/ to start afresh)")
        existing.filter(image_url="").update(
            image_url=Concat(Value("/demo/images/"), "product_id", Value(".svg"))
        )
        return [
            SyntheticProduct(
                item_id=p.product_id,
                handle=p.handle,
                title=p.title,
                category=p.category,
                price=float(p.price),
                image_url=p.image_url,
                available=p.available,
            )
            for p in existing
        ]
    store = generate_store(now=time.time(), n_shoppers=DEMO_SHOPPERS)
    synthetic_catalogue_write(shop=shop, products=store.products)
    say(f"catalogue: {len(store.products)} products")
    # The history goes in as a merchant's export would: a CSV through the offline importer.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.csv"
        write_interactions_csv(store.interactions, path)
        with path.open(newline="") as handle:
            report = interactions_import(shop=shop, rows=csv.DictReader(handle))
    say(f"history: {report.accepted} interactions imported, {len(report.rejected)} rejected")
    return store.products


def demo_train(*, shop: str, say: Callable[[str], None], only_missing: bool = False) -> None:
    """The demo shop's first models, retrained as every shop's are (recs/training.py): each kind
    its history supports, SASRec with a progress bar and a budget of about a minute, then the
    kind that serves and why. With `only_missing`, nothing when the shop has models already."""
    if only_missing and decision_latest(shop=shop) is not None:
        say("models: already trained (delete var/ to start afresh)")
        return
    decision = shop_models_retrain(
        shop=shop, kinds=DEMO_KINDS, neural_budget_s=DEMO_NEURAL_BUDGET_S, progress=True
    )
    if decision is None:
        say(f"models: no history of {shop} to train on")
        return
    for c in decision.candidates:
        say(
            f"model: {c.kind} version {c.version}, NDCG@10 {c.ndcg_at_10:.4f} on "
            f"{decision.cases} holdout shoppers ({c.seconds:.0f} s)"
        )
    say(f"serving: {decision.serving_kind or 'nothing'}, {decision.reason}")
