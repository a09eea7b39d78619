"""Product images for the demo catalogue, drawn here (no network, no files): an SVG card per
product in its category's colours, with the category's shape and the product's title.

The synthetic store (recommender/synthetic.py) has titles and categories but no pictures; a
storefront of grey boxes does not look like a store. Each product's `image_url` is its card's URL
(`demo_image_url`), served by `product_image` while the demo is on.
"""

from __future__ import annotations

import zlib

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from shopapp.demo.proxy import DEMO_SHOP
from shopapp.recs.models import Product

# Each shape is drawn in a 200 x 200 box with `currentColor` (the category's ink) and white.
_HI = 'fill="#fff" fill-opacity=".38"'
SHAPES: dict[str, str] = {
    "Running shoes": (
        '<g transform="translate(0 18)">'
        '<path d="M12 150 L18 98 Q21 82 37 84 L58 90 Q68 70 86 64 L100 62 L114 96 '
        'Q150 112 182 120 Q199 126 196 150 Z"/>'
        '<rect x="6" y="146" width="194" height="22" rx="11" fill="#fff" fill-opacity=".8"/>'
        '<path d="M76 84 L92 98 M88 76 L104 90 M100 70 L112 82" stroke="#fff" '
        'stroke-width="6" stroke-linecap="round"/></g>'
    ),
    "Rain jackets": (
        '<path d="M68 22 L132 22 L176 46 L196 132 L170 140 L158 96 L158 190 L42 190 L42 96 '
        'L30 140 L4 132 L24 46 Z"/>'
        f'<path d="M68 22 Q100 -6 132 22 Q100 44 68 22 Z" {_HI}/>'
        '<path d="M100 34 V190" stroke="#fff" stroke-width="4"/>'
        f'<rect x="56" y="128" width="28" height="8" rx="4" {_HI}/>'
        f'<rect x="116" y="128" width="28" height="8" rx="4" {_HI}/>'
    ),
    "Yoga mats": (
        f'<path d="M40 150 L190 150 L170 185 L20 185 Z" {_HI}/>'
        '<rect x="24" y="60" width="150" height="90" rx="45"/>'
        '<circle cx="150" cy="105" r="45" fill="#fff" fill-opacity=".45"/>'
        '<circle cx="150" cy="105" r="30"/>'
        '<circle cx="150" cy="105" r="16" fill="#fff" fill-opacity=".45"/>'
    ),
    "Backpacks": (
        '<path d="M78 34 Q100 2 122 34" fill="none" stroke="currentColor" stroke-width="10"/>'
        '<rect x="42" y="30" width="116" height="162" rx="38"/>'
        '<path d="M52 82 Q100 104 148 82" fill="none" stroke="#fff" stroke-width="5"/>'
        f'<rect x="64" y="116" width="72" height="58" rx="14" {_HI}/>'
    ),
    "Water bottles": (
        '<rect x="78" y="6" width="44" height="30" rx="7"/>'
        '<rect x="86" y="34" width="28" height="16"/>'
        '<path d="M66 64 Q66 48 86 48 L114 48 Q134 48 134 64 L134 184 Q134 196 122 196 '
        'L78 196 Q66 196 66 184 Z"/>'
        f'<rect x="66" y="98" width="68" height="50" {_HI}/>'
    ),
    "Headphones": (
        '<path d="M38 126 V104 A62 62 0 0 1 162 104 V126" fill="none" stroke="currentColor" '
        'stroke-width="16" stroke-linecap="round"/>'
        '<rect x="20" y="108" width="44" height="76" rx="18"/>'
        '<rect x="136" y="108" width="44" height="76" rx="18"/>'
        f'<rect x="30" y="124" width="14" height="44" rx="7" {_HI}/>'
        f'<rect x="156" y="124" width="14" height="44" rx="7" {_HI}/>'
    ),
    "Desk lamps": (
        '<rect x="36" y="176" width="96" height="16" rx="8"/>'
        '<path d="M84 176 L58 110 L122 62" fill="none" stroke="currentColor" stroke-width="11" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
        '<circle cx="58" cy="110" r="10"/>'
        '<path d="M104 40 L176 62 L150 114 Z"/>'
        '<circle cx="170" cy="112" r="16" fill="#fff" fill-opacity=".6"/>'
    ),
    "Coffee grinders": (
        '<path d="M100 62 V34 H152" fill="none" stroke="currentColor" stroke-width="9" '
        'stroke-linecap="round"/>'
        '<circle cx="154" cy="34" r="11"/>'
        '<path d="M52 62 L148 62 L126 104 L74 104 Z"/>'
        '<rect x="58" y="104" width="84" height="88" rx="9"/>'
        f'<rect x="74" y="140" width="52" height="32" rx="5" {_HI}/>'
    ),
    "Sunglasses": (
        '<rect x="8" y="72" width="184" height="12" rx="6"/>'
        '<path d="M14 80 H92 Q94 134 54 138 Q16 134 14 80 Z"/>'
        '<path d="M108 80 H186 Q184 134 146 138 Q106 134 108 80 Z"/>'
        f'<path d="M28 90 H52 L36 118 Z" {_HI}/>'
        f'<path d="M122 90 H146 L130 118 Z" {_HI}/>'
    ),
    "Camping tents": (
        '<path d="M100 24 L188 182 L12 182 Z"/>'
        f'<path d="M100 78 L132 182 L68 182 Z" {_HI}/>'
        '<rect x="2" y="180" width="196" height="9" rx="4.5"/>'
    ),
}
# (background, ink) per category; a category the demo does not know gets the last pair.
PALETTE: dict[str, tuple[str, str]] = {
    "Running shoes": ("#ffe1cf", "#d9480f"),
    "Rain jackets": ("#d6eaff", "#1864ab"),
    "Yoga mats": ("#e9e0ff", "#6741d9"),
    "Backpacks": ("#d8f5dc", "#2b8a3e"),
    "Water bottles": ("#cdf4f7", "#0b7285"),
    "Headphones": ("#ffe3e3", "#c92a2a"),
    "Desk lamps": ("#fff1b8", "#d9480f"),
    "Coffee grinders": ("#f3e6da", "#7c4a1e"),
    "Sunglasses": ("#ffdeeb", "#a61e4d"),
    "Camping tents": ("#e6f0d8", "#5c7a1f"),
}
DEFAULT_COLOURS = ("#eceff1", "#455a64")


def demo_image_url(product_id: str) -> str:
    return f"/demo/images/{product_id}.svg"


def product_svg(*, product_id: str, title: str, category: str) -> str:
    """The product's card: 400 x 400, the shape on a soft disc that sits differently for each
    product of a category (so they do not all look alike), the title underneath."""
    background, ink = PALETTE.get(category, DEFAULT_COLOURS)
    spot = zlib.crc32(product_id.encode())
    disc_x, disc_y, tilt = 120 + spot % 160, 110 + (spot >> 8) % 90, (spot >> 16) % 13 - 6
    known = SHAPES.get(category)
    # The shapes are this module's own constant markup.
    shape = (
        mark_safe(known)
        if known
        else format_html(
            '<circle cx="100" cy="100" r="90"/><text x="100" y="132" font-size="100" '
            'text-anchor="middle" fill="#fff" font-family="system-ui, sans-serif">{}</text>',
            (category or title or "?")[:1].upper(),
        )
    )
    return str(
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" width="400" '
            'height="400" role="img" aria-label="{}">'
            '<rect width="400" height="400" fill="{}"/>'
            '<circle cx="{}" cy="{}" r="150" fill="#fff" fill-opacity=".45"/>'
            '<g transform="translate(80 44) scale(1.2) rotate({} 100 100)" fill="{}" '
            'color="{}">{}</g>'
            '<text x="200" y="364" text-anchor="middle" fill="{}" font-family="system-ui, '
            '-apple-system, Segoe UI, Roboto, sans-serif" font-size="26" font-weight="700">{}'
            "</text></svg>",
            title,
            background,
            disc_x,
            disc_y,
            tilt,
            ink,
            ink,
            shape,
            ink,
            title,
        )
    )


def product_image(request: HttpRequest, product_id: str) -> HttpResponse:
    if not settings.DEMO_APP_PROXY:
        raise Http404("the demo is off")
    product = Product.objects.filter(shop__domain=DEMO_SHOP, product_id=product_id).first()
    if product is None:
        raise Http404("no such product")
    svg = product_svg(product_id=product.product_id, title=product.title, category=product.category)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=3600"
    # An image, never a document that runs anything.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
