"""Shopify's resource ids: the one definition every product, order and customer check uses."""

from __future__ import annotations

import pytest

from shopapp.shopify.ids import gid_id, id_or_gid, resource_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8077", "8077"),
        (" 8077 ", "8077"),
        (8077, "8077"),
        ("9" * 20, "9" * 20),
        ("9" * 21, None),  # wider than a 64-bit id
        ("", None),
        (None, None),
        ("-1", None),
        ("12a", None),
        ("١٢٣", None),  # Arabic-Indic digits: str.isdigit() says yes, Shopify never writes them
        ("gid://shopify/Product/1", None),
    ],
)
def test_a_resource_id_is_up_to_twenty_ascii_digits(value: object, expected: str | None) -> None:
    assert resource_id(value) == expected


def test_a_global_id_gives_its_number_and_can_be_held_to_its_resource() -> None:
    assert gid_id("gid://shopify/Product/8077") == "8077"
    assert gid_id("gid://shopify/Product/8077", "Product") == "8077"
    assert gid_id("gid://shopify/Order/8077", "Product") is None
    assert gid_id("gid://shopify/Product/") is None
    assert gid_id("gid://shopify/Product/8077/extra") is None
    assert gid_id("8077") is None


def test_either_form_of_one_resource() -> None:
    assert id_or_gid("8077", "Order") == "8077"
    assert id_or_gid("gid://shopify/Order/8077", "Order") == "8077"
    assert id_or_gid("gid://shopify/Customer/8077", "Order") is None
