from __future__ import annotations

import re

import pytest

from shopapp.demo.tp2 import DUID, VISITOR, page_view, payload, product_event, slipstream_event
from shopapp.events.normalise import tp2_normalise
from shopapp.events.offline import offline_normalise
from shopapp.events.tp2 import EventError, PayloadError, payload_parse
from tests.tp2 import duid_for

SHOP = "s.myshopify.com"
NOW = 1_767_225_600.0  # the events' device time


def test_product_view_becomes_one_view_interaction() -> None:
    event = product_event(shop=SHOP, item="gid://shopify/Product/42", duid=duid_for("9"))
    [rec] = tp2_normalise(shop=SHOP, raw=event, received_at=NOW)
    assert (rec.shop, rec.user_id, rec.item_id, rec.interaction, rec.ts, rec.event_id) == (
        SHOP,
        f"v:{duid_for('9')}",
        "42",
        "view",
        NOW,
        event["eid"],
    )


def test_base64url_fields_without_padding_decode_like_plain_json() -> None:
    plain = product_event(shop=SHOP, item="7")
    encoded = product_event(shop=SHOP, item="7", encode=True, eid=plain["eid"])
    assert tp2_normalise(shop=SHOP, raw=encoded, received_at=NOW) == tp2_normalise(
        shop=SHOP, raw=plain, received_at=NOW
    )


def test_the_signed_customer_is_the_shopper_and_their_visitor_id_is_linked() -> None:
    [rec] = tp2_normalise(
        shop=SHOP, raw=product_event(shop=SHOP, item="1"), received_at=NOW, customer="c:5"
    )
    assert (rec.user_id, rec.visitor_id) == ("c:5", VISITOR)


@pytest.mark.parametrize("uid", ["5", "c:5", "gid://shopify/Customer/5"])
def test_an_events_own_uid_never_names_a_customer(uid: str) -> None:
    # Without Shopify's signature the shopper is the visitor, whatever `uid` the client sent.
    [rec] = tp2_normalise(
        shop=SHOP, raw=product_event(shop=SHOP, item="1", uid=uid), received_at=NOW
    )
    assert (rec.user_id, rec.visitor_id) == (VISITOR, None)


@pytest.mark.parametrize("duid", ["5", "207119551", "c:5", "visitor-9", "{" + DUID + "}"])
def test_a_visitor_id_that_is_not_a_uuid_is_rejected(duid: str) -> None:
    # A customer's numeric id sent as a duid can never become (or reach) that customer.
    with pytest.raises(EventError, match=r"^a visitor id \(duid\) must be a UUID$"):
        tp2_normalise(shop=SHOP, raw=product_event(shop=SHOP, item="1", duid=duid), received_at=NOW)


def test_a_signed_customer_keeps_the_event_when_the_duid_is_malformed() -> None:
    raw = product_event(shop=SHOP, item="1", duid="not-a-uuid")
    [rec] = tp2_normalise(shop=SHOP, raw=raw, received_at=NOW, customer="c:5")
    assert (rec.user_id, rec.visitor_id) == ("c:5", None)


def test_add_to_cart_is_a_cart_interaction() -> None:
    [rec] = tp2_normalise(
        shop=SHOP, raw=product_event(shop=SHOP, item="1", action="add_to_cart"), received_at=NOW
    )
    assert rec.interaction == "cart"


def test_device_clock_is_corrected_by_the_collector_clock() -> None:
    # Device clock 100 s behind: sent at device time 1000 s after creation, received at NOW.
    event = product_event(shop=SHOP, item="1")
    event["dtm"], event["stm"] = str(int((NOW - 200) * 1000)), str(int((NOW - 100) * 1000))
    [rec] = tp2_normalise(shop=SHOP, raw=event, received_at=NOW)
    assert rec.ts == NOW - 100


def test_page_view_carries_no_interaction() -> None:
    assert tp2_normalise(shop=SHOP, raw=page_view(shop=SHOP), received_at=NOW) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"eid": "not-a-uuid"}, "eid is not a UUID"),
        # An event id is a UUID as a visitor id is (events/identity.py): no braces, no urn.
        ({"eid": "{0b1f3c52-8e4d-4c55-9f0a-6c1d2e3f4a5b}"}, "eid is not a UUID"),
        ({"duid": ""}, "no shopper id (duid)"),
        ({"aid": "other.myshopify.com"}, "aid does not name this shop"),
        ({"ue_pr": "{broken"}, "ue_pr/ue_px is not valid JSON"),
        (
            {"co": '{"schema": "iglu:x/y/jsonschema/1-0-0", "data": []}'},
            "add_to_cart without a product entity",
        ),
    ],
)
def test_invalid_events_are_rejected_with_their_reason(change: dict[str, str], reason: str) -> None:
    event = {**product_event(shop=SHOP, item="1", action="add_to_cart"), **change}
    with pytest.raises(EventError, match=rf"^{re.escape(reason)}$"):
        tp2_normalise(shop=SHOP, raw=event, received_at=NOW)


def test_non_string_parameter_is_rejected() -> None:
    with pytest.raises(EventError, match="parameter 'dtm' is not a string"):
        tp2_normalise(
            shop=SHOP, raw={**product_event(shop=SHOP, item="1"), "dtm": 5}, received_at=NOW
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "body is not JSON"),
        (b'{"schema": "iglu:com.acme/x/jsonschema/1-0-0", "data": []}', "not a payload_data"),
        (payload(), "non-empty array"),
    ],
)
def test_envelope_errors_reject_the_whole_request(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        payload_parse(body, max_events=10)


def test_too_many_events_in_one_request() -> None:
    with pytest.raises(PayloadError, match=r"too many events in one request \(3 > 2\)"):
        payload_parse(payload(*[page_view(shop=SHOP)] * 3), max_events=2)


def test_offline_rows_normalise_to_the_same_record_shape() -> None:
    rec = offline_normalise(
        shop=SHOP,
        row={
            "user_id": "u1",
            "item_id": "9",
            "interaction_type": "add_to_cart",
            "timestamp": "2026-01-01T00:00:00Z",
        },
    )
    assert (rec.user_id, rec.item_id, rec.interaction, rec.ts) == ("i:u1", "9", "cart", NOW)
    again = offline_normalise(
        shop=SHOP,
        row={"user_id": "u1", "item_id": "9", "interaction_type": "cart", "timestamp": str(NOW)},
    )
    assert again.event_id == rec.event_id  # the same row twice is the same event


@pytest.mark.parametrize(
    ("written", "shopper"),
    [
        ("gid://shopify/Customer/42", "c:42"),
        ("42", "i:42"),  # a bare number may be any system's id: not proof of a customer
        ("Ann@Example.com", "i:ann@example.com"),
    ],
)
def test_offline_user_ids_name_a_customer_only_by_their_gid(written: str, shopper: str) -> None:
    row = {"user_id": written, "item_id": "9", "interaction_type": "view", "timestamp": str(NOW)}
    assert offline_normalise(shop=SHOP, row=row).user_id == shopper


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            {"user_id": "u", "item_id": "1", "interaction_type": "view"},
            "missing column 'timestamp'",
        ),
        (
            {"user_id": "u", "item_id": "1", "interaction_type": "wink", "timestamp": "1"},
            "unknown interaction_type 'wink'",
        ),
        (
            {"user_id": "u", "item_id": "1", "interaction_type": "view", "timestamp": "yesterday"},
            "unreadable timestamp 'yesterday'",
        ),
        (
            {
                "user_id": "u u",
                "item_id": "1",
                "interaction_type": "view",
                "timestamp": "1767225600",
            },
            "invalid user_id",
        ),
        (
            {"user_id": None, "item_id": "1", "interaction_type": "view", "timestamp": "1"},
            "row has fewer columns than the header",
        ),
    ],
)
def test_broken_offline_rows_are_rejected_with_their_reason(
    row: dict[str, str], reason: str
) -> None:
    with pytest.raises(EventError, match=rf"^{re.escape(reason)}$"):
        offline_normalise(shop=SHOP, row=row)


def test_recommendation_click_and_impression_follow_our_published_schemas() -> None:
    click = slipstream_event(
        shop=SHOP,
        name="recommendation_click",
        data={
            "item_id": "9",
            "position": 2,
            "model_version": "slipstream-popularity/3",
            "placement": "product",
        },
    )
    [rec] = tp2_normalise(shop=SHOP, raw=click, received_at=NOW)
    assert (rec.interaction, rec.item_id, rec.event_id) == ("rec_click", "9", click["eid"])
    shown = slipstream_event(
        shop=SHOP,
        name="recommendation_impression",
        data={"items": ["4", "5"], "model_version": "", "placement": "product"},
    )
    records = tp2_normalise(shop=SHOP, raw=shown, received_at=NOW)
    assert [(r.interaction, r.item_id, r.event_id) for r in records] == [
        ("rec_impression", "4", shown["eid"]),
        ("rec_impression", "5", f"{shown['eid']}:1"),
    ]


def test_an_event_breaking_our_schema_is_rejected_with_the_schema_errors() -> None:
    click = slipstream_event(
        shop=SHOP,
        name="recommendation_click",
        data={
            "item_id": "9",
            "position": -1,
            "model_version": "v",
            "placement": "product",
            "extra": True,
        },
    )
    with pytest.raises(EventError) as caught:
        tp2_normalise(shop=SHOP, raw=click, received_at=NOW)
    assert str(caught.value) == (
        "app.slipstream/recommendation_click invalid: "
        "(root): Additional properties are not allowed ('extra' was unexpected); "
        "position: -1 is less than the minimum of 0"
    )


def test_an_unpublished_schema_version_is_unsupported() -> None:
    click = slipstream_event(shop=SHOP, name="recommendation_click", version="2-0-0", data={})
    with pytest.raises(
        EventError,
        match=r"^unsupported event schema "
        r"app\.slipstream/recommendation_click/2-0-0$",
    ):
        tp2_normalise(shop=SHOP, raw=click, received_at=NOW)


def test_a_stated_true_time_wins_for_replays_of_the_past_but_not_the_future() -> None:
    past = {**product_event(shop=SHOP, item="1"), "ttm": "1396915200123"}  # 2014-04-08
    [rec] = tp2_normalise(shop=SHOP, raw=past, received_at=NOW)
    assert rec.ts == 1396915200.123
    future = {**product_event(shop=SHOP, item="1"), "ttm": str(int((NOW + 3600) * 1000))}
    with pytest.raises(EventError, match=r"^ttm is in the future$"):
        tp2_normalise(shop=SHOP, raw=future, received_at=NOW)
