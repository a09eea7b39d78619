"""Shopify's budget for a theme app extension's JavaScript: 10,000 bytes compressed.

Theme Check only measures scripts named in a block schema's "javascript" key, and uncompressed;
ours load with <script src>, so the budget is checked here, on the files exactly as shipped.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

ASSETS = Path(__file__).resolve().parents[1] / "theme_extension" / "assets"
BUDGET_BYTES = 10_000


@pytest.mark.parametrize("name", ["tracker.js", "recommendations.js"])
def test_storefront_script_fits_shopifys_compressed_budget(name: str) -> None:
    compressed = len(gzip.compress((ASSETS / name).read_bytes(), compresslevel=9))
    assert compressed <= BUDGET_BYTES, f"{name}: {compressed} B gzip > {BUDGET_BYTES} B"
