"""Every GraphQL document we send is valid for the Admin API version we pin, and affordable."""

from __future__ import annotations

import gzip
import json
import os

import pytest
from gql import Client, gql
from graphql import build_client_schema, parse

from shopapp.shopify.cost import MAX_QUERY_COST, requested_cost
from shopapp.shopify.schema import (
    SCHEMA_PATH,
    admin_schema,
    document,
    document_errors,
    document_names,
)


@pytest.fixture(scope="module", autouse=True)
def _schema_present() -> None:
    if not SCHEMA_PATH.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SCHEMA_PATH} is required under CI=true (make test fetches it)")
        pytest.skip(f"{SCHEMA_PATH} is absent: run `make test` or tools/shopify-schema/fetch.sh")


def test_there_are_documents() -> None:
    assert len(document_names()) >= 10


@pytest.mark.parametrize("name", document_names())
def test_document_is_valid_against_the_pinned_admin_schema(name: str) -> None:
    assert document_errors(document(name)) == []


@pytest.mark.parametrize("name", document_names())
def test_document_costs_less_than_shopifys_ceiling(name: str) -> None:
    assert requested_cost(document(name)) <= MAX_QUERY_COST


def test_an_invalid_document_is_caught() -> None:
    """What would make a new document fail the test above: a field, an argument or a type
    Shopify's schema does not have, or a wrong variable type."""
    bad = {
        "query { shop { notAField } }": "Cannot query field 'notAField'",
        "query { products(first: 5, sortKey: NOPE) { nodes { id } } }": "NOPE",
        "mutation($id: String!) { metaobjectDelete(id: $id) { deletedId } }": "String!",
        "query { metaobjectByHandle { id } }": "metaobjectByHandle(handle:)",
    }
    for text, expected in bad.items():
        errors = document_errors(parse(text))
        assert errors, text
        assert any(expected in e for e in errors), (text, errors)


def test_gql_accepts_the_schema_with_its_deprecations_made_consistent() -> None:
    """gql 4 (graphql-core 3.3) refuses Shopify's raw schema; ours loads and validates."""
    with gzip.open(SCHEMA_PATH) as f:
        raw = build_client_schema(json.load(f)["data"])
    with pytest.raises(TypeError, match="must not be deprecated"):
        Client(schema=raw).validate(gql("query { shop { name } }"))

    client = Client(schema=admin_schema())
    client.validate(gql("query { shop { name myshopifyDomain } }"))
    with pytest.raises(Exception, match="Cannot query field"):
        client.validate(gql("query { shop { nope } }"))


def test_cost_follows_shopifys_rules() -> None:
    assert requested_cost(parse("query { shop { name } }")) == 1  # an object: 1, scalars: 0
    # A connection: 2 + first x (node: 1 object + its objects).
    assert requested_cost(
        parse("query { products(first: 10) { nodes { id featuredMedia { id } } } }")
    ) == 2 + 10 * (1 + 1)
    assert (
        requested_cost(parse("query($n: Int) { products(first: $n) { nodes { id } } }"), {"n": 250})
        == 2 + 250 * 1
    )
    assert requested_cost(parse('mutation { webPixelDelete(id: "1") { deletedWebPixelId } }')) == 10
