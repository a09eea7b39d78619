"""The Admin GraphQL client against the stand-in Shopify: cost budget, throttling, retries."""

from __future__ import annotations

import pytest

from shopapp.recs.metaobjects import TYPE, Entry, definition_ensure, entries_publish
from shopapp.redis import get_redis
from shopapp.shopify.graphql import (
    AdminClient,
    QueryTooExpensive,
    ShopifyError,
    ShopifyUnavailable,
    bucket_key,
)
from shopapp.shops.services import shop_admin_client
from tests.fakeshopify import FakeShopify

pytestmark = pytest.mark.django_db(transaction=True)


class Sleeps(list[float]):
    """Records the client's waits instead of sleeping them (waits are asserted, not timed)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _client(shop: str, sleeps: Sleeps | None = None) -> AdminClient:
    client = shop_admin_client(domain=shop)
    if sleeps is not None:
        client._sleep = sleeps
    return client


def test_a_query_returns_data_and_records_the_bucket(installed: str, fake: FakeShopify):
    with _client(installed) as client:
        data = client.execute("metaobject_definition_by_type", {"type": TYPE})
        bucket = client.bucket()
    assert data == {"metaobjectDefinitionByType": None}
    assert bucket is not None
    assert (bucket.maximum, bucket.restore) == (1000.0, 100.0)
    assert 990 <= bucket.available <= 1000  # 1 point spent, restoring since


@pytest.mark.parametrize("fault", ["throttle", "429", "500", "drop"])
def test_a_transient_refusal_is_waited_out_and_retried(
    installed: str, fake: FakeShopify, fault: str
):
    fake.faults += [fault, fault]
    sleeps = Sleeps()
    with _client(installed, sleeps) as client:
        definition_ensure(client)
    assert len(fake.definitions) == 1  # created once, despite the refusals before it
    assert len(sleeps) >= 2
    assert all(s > 0 for s in sleeps)
    if fault == "429":
        assert sleeps[:2] == [0.2, 0.2]  # Shopify's Retry-After


def test_shopify_down_through_every_retry_is_unavailable(installed: str, fake: FakeShopify):
    fake.faults += ["500"] * 20
    with _client(installed, Sleeps()) as client, pytest.raises(ShopifyUnavailable):
        client.execute("web_pixel")


def test_an_invalid_document_is_refused_like_shopify_does(
    installed: str, fake: FakeShopify, monkeypatch
):
    from graphql import parse

    import shopapp.shopify.graphql as graphql_module

    monkeypatch.setattr(graphql_module, "document", lambda name: parse("query { shop { nope } }"))
    with _client(installed) as client, pytest.raises(ShopifyError, match="Cannot query field"):
        client.execute("anything")


def test_a_query_over_1000_points_is_never_sent(installed: str, fake: FakeShopify, monkeypatch):
    from graphql import parse

    import shopapp.shopify.graphql as graphql_module

    expensive = parse(
        "query { products(first: 250) { nodes { id featuredMedia { id }"
        " collections(first: 5) { nodes { id } } } } }"
    )
    monkeypatch.setattr(graphql_module, "document", lambda name: expensive)
    with _client(installed) as client, pytest.raises(QueryTooExpensive):
        client.execute("expensive")
    assert fake.graphql_log == []


def test_a_revoked_token_is_an_error_not_a_retry(installed: str, fake: FakeShopify):
    fake.access_tokens.clear()
    sleeps = Sleeps()
    with _client(installed, sleeps) as client, pytest.raises(ShopifyError, match="401"):
        client.execute("web_pixel")
    assert sleeps == []


def test_the_client_paces_itself_to_the_bucket(installed: str, fake: FakeShopify):
    """A small bucket (the fake's: 60 points, 40/s): 12 upserts of 12 points each cannot all go
    at once. The client learns the bucket from the first answer and waits instead of being
    throttled; every upsert arrives, once."""
    fake.bucket_maximum, fake.bucket_restore = 60.0, 40.0
    entries = [
        Entry(user_id=f"c:{1000 + i}", product_ids=["1", "2"], model_version="m/1", computed_at=0.0)
        for i in range(12)
    ]
    with _client(installed) as client:
        definition_ensure(client)
        get_redis().delete(bucket_key(installed))  # as a fresh worker: it does not know the bucket
        assert entries_publish(client, entries) == 12
    upserts = [e for e in fake.effects if e[1] == "metaobjectUpsert"]
    assert len(upserts) == 12
    assert len({e[2] for e in upserts}) == 12
    throttled = fake.throttled
    assert throttled <= 1  # at most the first, before the client knew the bucket


def test_upserts_survive_every_kind_of_refusal_and_none_takes_effect_twice(
    installed: str, fake: FakeShopify
):
    entries = [
        Entry(user_id=f"c:{2000 + i}", product_ids=[str(i)], model_version="m/1", computed_at=0.0)
        for i in range(6)
    ]
    with _client(installed, Sleeps()) as client:
        definition_ensure(client)
        fake.faults += ["throttle", "429", "500", "drop", "throttle", "500"]
        assert entries_publish(client, entries) == 6
        assert entries_publish(client, entries) == 6  # published again: the same entries
    assert len(fake.entries(installed)) == 6
    for entry in entries:
        [stored] = [
            m
            for m in fake.entries(installed).values()
            if m["fields"]["products"] == f'["gid://shopify/Product/{entry.product_ids[0]}"]'
        ]
        assert stored["fields"]["model_version"] == "m/1"
    upserts = [e for e in fake.effects if e[1] == "metaobjectUpsert"]
    assert len(upserts) == 12  # each call took effect once; the refused ones not at all
