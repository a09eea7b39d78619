"""Whatever arrives at the collector, it answers with a 4xx or a 2xx, never a 5xx; whatever it
accepted, the ingest worker digests without an exception, recording every good event and keeping
every bad one as a rejection.

The strategies reach what plain JSON generators never do: nesting far past the loader's limit,
numbers of thousands of digits, NUL and lone surrogates, invalid UTF-8, NaN, base64 fields of
hundreds of kilobytes, both as the whole body and inside the JSON-string fields (`ue_pr`, `co`,
`ue_px`, `cx`) that only the worker decodes.

Examples: the `slipstream-fuzz` profile for a quick local run; under CI=true the
`slipstream-fuzz-ci` profile, whose examples over the four tests here total 10,000.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections import Counter
from typing import Any, cast
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from shopapp.demo.tp2 import PAYLOAD, product_event
from shopapp.events.boundedjson import MAX_DEPTH, MAX_NUMBER_CHARS, JsonRejected, json_parse
from shopapp.events.keys import rejections_count_key
from shopapp.events.models import Interaction
from shopapp.events.normalise import tp2_normalise
from shopapp.events.services import tracker_events_ingest
from shopapp.events.stream import STREAM, batch_decode
from shopapp.events.tp2 import JSON_FIELD_MAX_CHARS, EventError
from shopapp.redis import get_redis

hypothesis_settings.register_profile(
    "slipstream-fuzz",
    max_examples=500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
hypothesis_settings.register_profile(
    "slipstream-fuzz-ci",
    hypothesis_settings.get_profile("slipstream-fuzz"),
    max_examples=10_000,
)
PROFILE = hypothesis_settings.get_profile(
    "slipstream-fuzz-ci" if os.environ.get("CI") == "true" else "slipstream-fuzz"
)


def _share(fraction: float) -> hypothesis_settings:
    """This test's part of the profile's examples (the four parts add up to 1)."""
    return hypothesis_settings(PROFILE, max_examples=round(PROFILE.max_examples * fraction))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELD = st.sampled_from(
    ["e", "eid", "aid", "duid", "uid", "dtm", "stm", "ttm", "ue_pr", "ue_px", "co", "cx", "tv"]
)
PLAIN = {"ue_px": "ue_pr", "cx": "co"}
# Poison as JSON text: past the depth limit (closed, unclosed, arrays, objects), numbers past the
# length limit or out of range, the constants JSON lacks, NUL and lone surrogates as escapes (and
# their harmless look-alikes: a surrogate pair, an escaped backslash).
DEPTH = st.integers(min_value=MAX_DEPTH - 1, max_value=3000)
DIGITS = st.integers(min_value=MAX_NUMBER_CHARS - 2, max_value=6000)
POISON = st.one_of(
    DEPTH.map(lambda n: "[" * n + "]" * n),
    DEPTH.map(lambda n: '{"a": ' * n + "0" + "}" * n),
    DEPTH.map(lambda n: '[{"k": ' * (n // 2) + "[" * 5),
    DIGITS.map(lambda n: "9" * n),
    DIGITS.map(lambda n: "-0." + "5" * n),
    DIGITS.map(lambda n: "1e" + "9" * n),
    st.sampled_from(
        [
            "NaN",
            "[Infinity]",
            '{"x": -Infinity}',
            "[1e400]",
            '"\\u0000"',
            '{"\\u0000": 1}',
            '"\\ud800"',
            '["a\\udfff"]',
            '"\\ud800\\u0041"',
            '"\\ud83d\\ude00"',
            '"\\\\u0000"',
        ]
    ),
)
WRAPPERS = st.sampled_from(["@", "[@]", '{"k": @}', '[1, {"a": [@]}, "x"]', '{"schema": @}'])
POISON_JSON = st.one_of(
    POISON, st.tuples(WRAPPERS, POISON).map(lambda wp: wp[0].replace("@", wp[1]))
)
JSON_TEXT = st.one_of(JSON.map(json.dumps), POISON_JSON)
BAD_UTF8 = st.sampled_from(
    [b"\xff", b"\xfe", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]
)
TEXT = st.text(max_size=40) | st.text(st.sampled_from('a\x00\ud800\udfff\u2028"\\'), max_size=6)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate as the bytes it would be


# A parameter's value, a string as payload_data requires, holding what only the worker decodes.
def _values(longest: int) -> st.SearchStrategy[str]:
    return st.one_of(
        TEXT,
        JSON_TEXT,
        JSON_TEXT.map(lambda t: _b64(_utf8(t))),
        BAD_UTF8.map(_b64),
        st.integers(JSON_FIELD_MAX_CHARS - 10, longest).map(lambda n: "A" * n),
        st.integers(15, 500).map(lambda n: "9" * n),  # a timestamp no float can hold
    )


VALUE = _values(300_000)
# In a URL only just past the field limit: servers refuse much longer request lines anyway.
QUERY_VALUE = _values(JSON_FIELD_MAX_CHARS + 10)


@st.composite
def event_text(draw: st.DrawFn, shop: str) -> str:
    """One event as JSON text: a real product event, some parameters replaced by poison strings,
    or one spliced in as a raw (non-string) poison value; or any JSON at all."""
    event: dict[str, Any] = product_event(shop=shop, item=draw(st.text(max_size=12)) or "1")
    for field in draw(st.lists(FIELD, max_size=3)):
        event[field] = draw(VALUE)
        event.pop(PLAIN.get(field, ""), None)  # the plain form would win over the base64 one
    text = json.dumps(event)
    choice = draw(st.sampled_from(["event", "spliced", "any"]))
    if choice == "spliced":
        return text[:-1] + f', "{draw(FIELD)}x": {draw(POISON_JSON)}}}'
    return draw(JSON_TEXT) if choice == "any" else text


@st.composite
def bodies(draw: st.DrawFn, shop: str) -> bytes:
    kinds = ["bytes", "text", "payload", "payload", "payload", "broken", "clean"]
    kind = draw(st.sampled_from(kinds))
    if kind == "clean":
        # Real events but for their product ids: without these, a poisoned field in any event
        # of a body refuses all of it, and the accepted path was reached by chance (7 to 12
        # bodies in 150, depending on the run).
        items = draw(st.lists(st.text(max_size=12), min_size=1, max_size=5))
        return _payload(*(product_event(shop=shop, item=item or "1") for item in items))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "text":
        return _utf8(draw(JSON_TEXT))
    events = draw(st.lists(event_text(shop), min_size=1, max_size=5))
    data = "[" + ", ".join(events) + "]" if draw(st.booleans()) else draw(JSON_TEXT)
    body = _utf8(f'{{"schema": "{PAYLOAD}", "data": {data}}}')
    if kind == "broken":  # a valid body but for some bytes that are not UTF-8
        at = draw(st.integers(0, len(body)))
        return body[:at] + draw(BAD_UTF8) + body[at:]
    return body


def _payload(*events: dict[str, Any] | str) -> bytes:
    texts = [e if isinstance(e, str) else json.dumps(e) for e in events]
    return f'{{"schema": "{PAYLOAD}", "data": [{", ".join(texts)}]}}'.encode()


def _poisoned(shop: str, **fields: str) -> dict[str, str]:
    event = {**product_event(shop=shop, item="1"), **fields}
    for field in fields:
        event.pop(PLAIN.get(field, ""), None)
    return event


class Ledger:
    """What ingest must have done, worked out event by event beside it (tp2_normalise is the
    oracle: an event it refuses, for whatever reason, must be a rejection; one it accepts must be
    recorded), and the reasons met, to show the strategies reached what they aim at."""

    def __init__(self, shop: str) -> None:
        self.shop = shop
        self.event_ids: set[str] = set()
        self.rejected = 0
        self.reasons: Counter[str] = Counter()

    def ingest_logged(self) -> int:
        """Run this shop's logged batches through the worker's ingest; returns how many."""
        r = get_redis()
        entries = cast(list[tuple[str, dict[str, str]]], r.xrange(STREAM))
        mine = [(entry_id, fields) for entry_id, fields in entries if fields["shop"] == self.shop]
        for entry_id, fields in mine:
            batch = batch_decode(fields)
            for raw in batch.events:
                try:
                    records = tp2_normalise(
                        shop=self.shop, raw=raw, received_at=batch.received_at, customer=None
                    )
                except EventError as exc:
                    self._rejection(str(exc))
                except Exception as exc:  # a normaliser bug: ingest must keep it as a rejection
                    self._rejection(f"internal error: {type(exc).__name__}")
                else:
                    self.event_ids.update(rec.event_id for rec in records)
            tracker_events_ingest(shop=self.shop, batches=[batch])  # must never raise
            r.xdel(STREAM, entry_id)
        recorded = set(
            Interaction.objects.filter(shop__domain=self.shop).values_list("event_id", flat=True)
        )
        assert recorded == self.event_ids
        assert int(r.get(rejections_count_key(self.shop)) or 0) == self.rejected
        return len(mine)

    def _rejection(self, reason: str) -> None:
        self.rejected += 1
        self.reasons[reason] += 1


def _met(reasons: Counter[str], *fragments: str) -> list[str]:
    """The fragments no reason contains (empty when every one was met)."""
    return [f for f in fragments if not any(f in reason for reason in reasons)]


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    # Past the limits every answer would be 429 and the fuzz would stop reaching the parser.
    for name in (
        "COLLECTOR_RATE_PER_SHOP",
        "COLLECTOR_RATE_PER_SHOPPER",
        "COLLECTOR_RATE_PER_ADDRESS",
        "COLLECTOR_NEW_VISITORS_PER_ADDRESS",
    ):
        setattr(settings, name, 10**9)


def test_no_body_makes_the_collector_or_the_worker_fail(shop: str, tracking_key: str) -> None:
    client = Client()
    ledger = Ledger(shop)
    seen: Counter[int] = Counter()
    refusals: Counter[str] = Counter()
    url = f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2"
    good = product_event(shop=shop, item="1")

    @_share(0.3)
    @given(body=bodies(shop))
    @example(body=b"[" * 1000 + b"]" * 1000)
    @example(body=_payload(good, f'{{"e": {"9" * 5000}}}'))
    @example(body=_payload('{"e": "\\u0000"}'))
    @example(body=_payload('{"e": "\\ud800"}'))
    @example(body=_payload(good).replace(b'"e"', b'"\xff"'))
    @example(body=b"NaN")
    @example(body=_payload(good, _poisoned(shop, ue_pr="[" * 2000 + "]" * 2000)))
    @example(body=_payload(good, _poisoned(shop, cx="A" * (JSON_FIELD_MAX_CHARS + 1))))
    @example(body=_payload(_poisoned(shop, co='{"schema": 1e' + "9" * 5000 + "}"), good))
    @example(body=_payload(_poisoned(shop, ue_pr='{"schema": "\\u0000"}')))
    @example(body=_payload(_poisoned(shop, ue_px=_b64(b"\xff\xfe"))))
    @example(body=_payload(_poisoned(shop, dtm="9" * 400)))
    def check(body: bytes) -> None:
        response = client.post(
            url, body, content_type="application/json", headers={"Origin": f"https://{shop}"}
        )
        assert response.status_code in {200, 400, 413}, (response.status_code, body[:200])
        answer = response.json()
        assert ("accepted" in answer) == (response.status_code == 200), answer
        if "error" in answer:
            refusals[str(answer["error"])] += 1
        seen[response.status_code] += 1
        assert ledger.ingest_logged() == (1 if response.status_code == 200 else 0)

    check()
    # Both answers were really exercised.
    assert seen[200] >= 10, (seen, refusals)
    assert seen[400] >= 10, (seen, refusals)
    missing = _met(
        refusals,
        "nested deeper",
        "a number longer",
        "NUL",
        "lone surrogate",
        "invalid UTF-8",
        "NaN",
    )
    assert not missing, (missing, refusals.most_common(20))
    missing = _met(
        ledger.reasons,
        "ue_pr is nested deeper",
        "cx is longer than",
        "co has a number longer",
        "ue_pr has a string with a NUL",
        "ue_px is not JSON (invalid UTF-8",
    )
    assert not missing, (missing, ledger.reasons.most_common(20))


@st.composite
def query_strings(draw: st.DrawFn, shop: str) -> str:
    event: dict[str, str] = product_event(shop=shop, item="1")
    for field in draw(st.lists(FIELD | st.text(max_size=6), max_size=5)):
        event[field] = draw(QUERY_VALUE)
    pairs = [(_utf8(k), _utf8(v)) for k, v in event.items()]
    if draw(st.booleans()):  # bytes no text decodes to, percent-encoded
        pairs.append((draw(FIELD).encode(), draw(BAD_UTF8)))
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)


def test_no_query_string_makes_the_pixel_or_the_worker_fail(shop: str, tracking_key: str) -> None:
    client = Client()
    ledger = Ledger(shop)
    seen: Counter[int] = Counter()

    @_share(0.1)
    @given(query=query_strings(shop))
    @example(query="e=pv&p=web&tv=1&aid=" + quote(shop) + "&url=%00")
    @example(query="e=ue&p=web&tv=1&aid=" + quote(shop) + "&ue_pr=" + quote("[" * 900 + "]" * 900))
    def check(query: str) -> None:
        response = client.get(f"/t/{tracking_key}/i?{query}")
        assert response.status_code in {200, 400}, (response.status_code, query[:200])
        seen[response.status_code] += 1
        assert ledger.ingest_logged() == (1 if response.status_code == 200 else 0)

    check()
    assert seen[200] >= 5, seen
    assert seen[400] >= 1, seen
    assert ledger.rejected >= 5, ledger.reasons


def _strings(doc: Any) -> list[str]:
    found, stack = [], [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            stack.extend([*value.keys(), *value.values()])
        elif isinstance(value, list):
            stack.extend(value)
    return found


def _depth(doc: Any) -> int:
    deepest, stack = 0, [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth + 1)
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return deepest


@_share(0.4)
@given(text=st.one_of(JSON_TEXT, POISON_JSON, TEXT), broken=st.none() | BAD_UTF8)
def test_the_loader_accepts_only_what_json_means_and_refuses_the_rest_with_a_reason(
    text: str, broken: bytes | None
) -> None:
    data = _utf8(text) + broken if broken else _utf8(text)
    try:
        doc = json_parse(data, max_chars=1024 * 1024)
    except JsonRejected as exc:
        refusal: JsonRejected | None = exc
    else:
        refusal = None
    if refusal is not None:
        assert str(refusal).startswith(("is ", "has ")), refusal
        return
    assert doc == json.loads(data)  # what it accepts means what JSON says it means
    assert _depth(doc) <= MAX_DEPTH
    json.dumps(doc, allow_nan=False)  # no NaN or infinity
    for string in _strings(doc):  # storable as they are: no NUL, no lone surrogate
        assert "\x00" not in string
        string.encode("utf-8")


@_share(0.2)
@given(event=st.one_of(event_text("fuzz.myshopify.com"), JSON_TEXT))
def test_the_normaliser_refuses_an_event_only_with_a_reason(event: str) -> None:
    """tp2_normalise on whatever a body the collector accepted can hold: records or EventError,
    never another exception (ingest would keep the event as an "internal error": still a bug)."""
    try:
        raw = json_parse(_utf8(event), max_chars=1024 * 1024)
    except JsonRejected:
        return  # the collector would have answered 400
    with contextlib.suppress(EventError):  # anything else fails the test
        tp2_normalise(shop="fuzz.myshopify.com", raw=raw, received_at=1_767_225_600.0)
