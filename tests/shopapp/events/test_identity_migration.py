"""The data migration that gives every stored shopper id its kind (events 0003)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from shopapp.demo.tp2 import DUID

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE, AFTER = ("events", "0002_identitylink"), ("events", "0003_kinded_shopper_ids")


def _migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


def test_bare_ids_become_kinded_and_only_vouched_numbers_become_customers() -> None:
    old = _migrate(BEFORE)
    try:
        shop = old.get_model("shops", "Shop").objects.create(
            domain="m.myshopify.com", tracking_key="k-migration"
        )
        old.get_model("events", "IdentityLink").objects.create(
            shop=shop, visitor_id=DUID.upper(), customer_id="42"
        )
        rows = {
            "e-visitor": DUID.upper(),  # a tracker visitor id
            "e-linked": "42",  # a customer a signed request linked
            "order-1-1": "43",  # an orders/create purchase
            "imp-abc": "Ann@Example.com",  # an imported row
            "e-unproven": "207119551",  # a bare number nobody vouched for (maybe forged)
        }
        Interaction = old.get_model("events", "Interaction")
        for event_id, user in rows.items():
            Interaction.objects.create(
                shop=shop,
                user_id=user,
                item_id="1",
                interaction="view",
                ts="2026-01-01T00:00:00Z",
                event_id=event_id,
            )
        new = _migrate(AFTER)
        assert dict(
            new.get_model("events", "Interaction").objects.values_list("event_id", "user_id")
        ) == {
            "e-visitor": f"v:{DUID}",
            "e-linked": "c:42",
            "order-1-1": "c:43",
            "imp-abc": "i:ann@example.com",
            "e-unproven": "x:207119551",
        }
        assert list(
            new.get_model("events", "IdentityLink").objects.values_list("visitor_id", "customer_id")
        ) == [(f"v:{DUID}", "c:42")]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())  # back to the current schema
