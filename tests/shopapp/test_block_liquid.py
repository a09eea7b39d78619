"""The block's Liquid, rendered as a theme renders it (shopapp/demo/liquid.py)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from shopapp.demo.liquid import block_render, liquid_product
from shopapp.recs.metaobjects import metaobject_handle

SETTINGS = {"title": "", "count": 3, "layout": "grid", "live": True}


def test_placeholders_of_the_final_size_render_at_once() -> None:
    html = block_render(
        block="recommendations",
        settings_=SETTINGS,
        template_name="product",
        product=liquid_product(
            product_id="5", title="T", handle="t", price=Decimal("1"), image_url=""
        ),
    )
    assert html.count("slipstream-recs__item--placeholder") == 3
    assert 'aria-busy="true"' in html and 'data-product-id="5"' in html
    assert "Recommended for you" in html and "{% schema" not in html and '"settings"' not in html


def test_the_title_and_status_follow_the_locale() -> None:
    html = block_render(
        block="recommendations", settings_=SETTINGS, template_name="index", locale="fr"
    )
    assert "Recommandé pour vous" in html and "Chargement des recommandations" in html


def test_a_customer_with_a_published_list_sees_it_rendered_by_liquid() -> None:
    handle = metaobject_handle("42")
    # The theme computes the same handle as Slipstream publishes under.
    assert handle == "c-" + hashlib.sha256(b"customer:42").hexdigest()[:32]
    entry = {
        "products": {
            "value": [
                liquid_product(
                    product_id=str(n),
                    title=f"Shoe <{n}>",
                    handle=f"s{n}",
                    price=Decimal("12.5"),
                    image_url="https://cdn.shopify.com/s.png",
                )
                for n in range(5)
            ]
        },
        "model_version": {"value": "slipstream-covisit/2"},
    }
    html = block_render(
        block="recommendations",
        settings_=SETTINGS,
        template_name="index",
        customer={"id": 42},
        metaobjects={"$app:recommendations": {handle: entry}},
    )
    assert "placeholder" not in html and 'data-prerendered="slipstream-covisit/2"' in html
    assert html.count('class="slipstream-recs__item"') == 3  # the block's count
    assert 'href="/products/s0?ss_rec=saved"' in html and "$12.50" in html
    assert 'alt="Shoe &lt;0&gt;"' in html and "Shoe &lt;0&gt;</span>" in html  # escaped


def test_another_customer_gets_placeholders() -> None:
    html = block_render(
        block="recommendations",
        settings_=SETTINGS,
        template_name="index",
        customer={"id": 43},
        metaobjects={"$app:recommendations": {metaobject_handle("42"): {}}},
    )
    assert html.count("placeholder") == 3
