"""The theme extension's own Liquid, rendered for the demo storefront (and the tests) the way a
Shopify theme renders it, with python-liquid.

Shopify's Liquid adds filters and objects to standard Liquid; the block uses these, stubbed here
with Shopify's documented behaviour (https://shopify.dev/docs/api/liquid/filters):
- `t`: the key looked up in the extension's locale file; `asset_url`: the extension's asset URL;
  `stylesheet_tag`: a <link>; `image_url` (with `width`) and `image_tag`; `money`: cents
  formatted with the shop's money format.
- `{% schema %}` renders nothing (Shopify reads it as the block's settings).
A product in Liquid has `id`, `title`, `url`, `price` (in cents) and `featured_image`. A customer
has `id` and `metafields`, where an app-owned one is under the namespace `$app` (Shopify resolves
it to the app's reserved namespace for the app's own blocks) and a reference metafield's `value`
is the object it references.
"""

from __future__ import annotations

import html
import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

EXTENSION = Path(settings.BASE_DIR) / "theme_extension"


@cache
def _environment() -> Any:
    # python-liquid is a dev/demo dependency: imported only when the demo renders.
    from liquid import Environment, Tag
    from liquid.builtin.tags.comment_tag import CommentNode
    from liquid.exceptions import LiquidSyntaxError
    from liquid.filter import with_context
    from liquid.token import TOKEN_EOF, TOKEN_TAG

    class SchemaTag(Tag):
        """{% schema %}…{% endschema %}: the block's settings for Shopify; renders nothing."""

        name = "schema"
        end = "endschema"

        def parse(self, stream: Any) -> Any:
            token = stream.eat(TOKEN_TAG)
            while not (stream.current.kind == TOKEN_TAG and stream.current.value == self.end):
                if stream.current.kind == TOKEN_EOF:
                    raise LiquidSyntaxError("schema tag was never closed", token=token)
                next(stream)
            return CommentNode(token, text="")

    env = Environment(autoescape=False)
    env.add_tag(SchemaTag)
    env.filters["t"] = with_context(_translate)
    env.filters["asset_url"] = lambda name: f"/static/theme_extension/{name}"
    env.filters["stylesheet_tag"] = lambda url: (
        f'<link href="{html.escape(url)}" rel="stylesheet" type="text/css" media="all" />'
    )
    env.filters["image_url"] = _image_url
    env.filters["image_tag"] = _image_tag
    env.filters["money"] = _money
    return env


@cache
def _locale(locale: str) -> dict[str, Any]:
    for name in (f"{locale}.default.json", f"{locale}.json", "en.default.json"):
        path = EXTENSION / "locales" / name
        if path.exists():
            return dict(json.loads(path.read_text(encoding="utf-8")))
    return {}


def _translate(key: str, *, context: Any) -> str:
    """Shopify's `t`: the key in the locale of the render (Shopify's `request.locale`)."""
    node: Any = _locale(str(context.resolve("request")["locale"]))
    for part in str(key).split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return str(node) if node is not None else f"translation missing: {key}"


def _image_url(image: Any, width: int | None = None) -> str:
    src = image.get("src", "") if isinstance(image, dict) else str(image)
    return f"{src}{'&' if '?' in src else '?'}width={width}" if width else src


def _image_tag(url: str, alt: str = "", loading: str = "", width: int = 0, height: int = 0) -> str:
    attrs = {"src": url, "alt": alt, "loading": loading, "width": width, "height": height}
    return "<img " + " ".join(f'{k}="{html.escape(str(v))}"' for k, v in attrs.items() if v) + ">"


def _money(cents: Any) -> str:
    amount = Decimal(int(cents)) / 100
    return settings.DEMO_MONEY_FORMAT.replace("{{amount}}", f"{amount:,.2f}")


def liquid_product(
    *, product_id: str, title: str, handle: str, price: Decimal, image_url: str
) -> dict[str, Any]:
    """A product as Liquid sees it."""
    return {
        "id": int(product_id),
        "title": title,
        "url": f"/products/{handle}",
        "price": int(price * 100),
        "featured_image": {"src": image_url} if image_url else None,
    }


def liquid_customer(*, customer_id: int, entry: dict[str, Any] | None = None) -> dict[str, Any]:
    """A logged-in customer as Liquid sees them, with their recommendations metafield when
    Slipstream has published an entry for them (`entry`: the metaobject as Liquid sees it, its
    fields each with a `value`)."""
    metafields = {"$app": {"recommendations": {"value": entry}}} if entry is not None else {}
    return {"id": customer_id, "metafields": metafields}


def block_render(
    *,
    block: str,
    settings_: dict[str, Any],
    template_name: str,
    product: dict[str, Any] | None = None,
    customer: dict[str, Any] | None = None,
    metaobjects: dict[str, Any] | None = None,
    block_id: str = "demo",
    locale: str = "en",
) -> str:
    """Render theme_extension/blocks/<block>.liquid with the objects Shopify would give it
    (`metaobjects`: Shopify's global of the shop's metaobjects by type, then handle)."""
    source = (EXTENSION / "blocks" / f"{block}.liquid").read_text(encoding="utf-8")
    template = _environment().from_string(source)
    return str(
        template.render(
            block={"id": block_id, "settings": settings_, "shopify_attributes": ""},
            template={"name": template_name},
            product=product,
            customer=customer,
            cart={"item_count": 0, "items": []},
            metaobjects=metaobjects or {},
            request={"locale": locale},
        )
    )
