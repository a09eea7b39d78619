"""The block's Liquid, rendered as a theme renders it (shopapp/demo/liquid.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shopapp.demo.liquid import EXTENSION, block_render, liquid_customer, liquid_product
from shopapp.recs.metaobjects import legacy_handle, metaobject_handle

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
    assert 'aria-busy="true"' in html
    assert 'data-product-id="5"' in html
    assert "Recommended for you" in html
    assert "{% schema" not in html
    assert '"settings"' not in html


def test_the_title_and_status_follow_the_locale() -> None:
    html = block_render(
        block="recommendations", settings_=SETTINGS, template_name="index", locale="fr"
    )
    assert "Recommandé pour vous" in html
    assert "Chargement des recommandations" in html


def _entry(name: str, n: int = 5) -> dict[str, Any]:
    """A published entry as Liquid sees it (each field's `value`)."""
    return {
        "products": {
            "value": [
                liquid_product(
                    product_id=str(k),
                    title=f"{name} <{k}>",
                    handle=f"{name.lower()}{k}",
                    price=Decimal("12.5"),
                    image_url="https://cdn.shopify.com/s.png",
                )
                for k in range(n)
            ]
        },
        "model_version": {"value": "slipstream-covisit/2"},
    }


def test_a_customer_with_a_published_list_sees_it_rendered_by_liquid() -> None:
    html = block_render(
        block="recommendations",
        settings_=SETTINGS,
        template_name="index",
        customer=liquid_customer(customer_id=42, entry=_entry("Shoe")),
    )
    assert "placeholder" not in html
    assert 'data-prerendered="slipstream-covisit/2"' in html
    assert html.count('class="slipstream-recs__item"') == 3  # the block's count
    assert 'href="/products/shoe0?ss_rec=saved"' in html
    assert "$12.50" in html
    assert 'alt="Shoe &lt;0&gt;"' in html
    assert "Shoe &lt;0&gt;</span>" in html


def test_another_customers_list_is_never_rendered() -> None:
    """Customer 43 has no entry; customer 42's exists in the shop, under the handle Slipstream
    publishes it at and under the guessable one of old. Neither reaches 43's page: the block
    looks only through the logged-in customer's own metafield, never up by handle."""
    theirs = _entry("Boot")
    metaobjects = {
        "$app:recommendations": {
            metaobject_handle("c:42"): theirs,
            legacy_handle("c:42"): theirs,
        }
    }
    for customer in (liquid_customer(customer_id=43), None):
        html = block_render(
            block="recommendations",
            settings_=SETTINGS,
            template_name="index",
            customer=customer,
            metaobjects=metaobjects,
        )
        assert html.count("slipstream-recs__item--placeholder") == 3
        assert "Boot" not in html
        assert "data-prerendered" not in html
    source = (EXTENSION / "blocks" / "recommendations.liquid").read_text(encoding="utf-8")
    assert "metaobjects[" not in source
    assert "sha256" not in source


def test_a_customer_whose_entry_is_gone_gets_placeholders() -> None:
    """The metafield can outlive its entry (cleaned up after 30 days): nothing to render."""
    entries: tuple[dict[str, Any] | None, ...] = (None, {"products": {"value": []}})
    for entry in entries:
        html = block_render(
            block="recommendations",
            settings_=SETTINGS,
            template_name="index",
            customer={"id": 42, "metafields": {"$app": {"recommendations": {"value": entry}}}},
        )
        assert html.count("slipstream-recs__item--placeholder") == 3
