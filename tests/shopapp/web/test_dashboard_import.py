"""The dashboard's import at the HTTP boundary: a file with lines made to break a parser is a 200
with each bad line's number and reason, and the good lines imported; never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from shopapp.events.models import Interaction
from shopapp.recs import scheduling
from tests.fakeshopify import FakeShopify, session_token
from workers import tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def retrainings(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    """The retrainings an import queues: recorded, not run."""
    queued: list[dict[str, object]] = []
    monkeypatch.setattr(tasks.shop_models_retrain, "delay", lambda **kw: queued.append(kw))
    yield queued
    for kwargs in queued:
        scheduling.retrain_release(shop=str(kwargs["shop"]))


def _upload(shop: str, name: str, data: bytes) -> Any:
    token = session_token(shop, secret=settings.SHOPIFY_API_SECRET, aud=settings.SHOPIFY_API_KEY)
    return Client().post(
        "/app/api/import",
        {"file": SimpleUploadedFile(name, data)},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _items(shop: str) -> list[str]:
    return sorted(Interaction.objects.filter(shop__domain=shop).values_list("item_id", flat=True))


def test_a_poison_csv_reports_its_bad_lines_and_imports_the_good(
    installed: str, fake: FakeShopify
) -> None:
    data = b"\n".join(
        [
            b"user_id,item_id,interaction_type,timestamp",
            b"u1,1,view,1767225600",
            b"u1,2,view,\x001767225601",
            b'u1,"' + b"x" * 140_000 + b'",view,1767225602',
            b"u1,3,view,\xc3",
            b"u1,4",
            b"u1,5,view,1767225605,more,fields",
            b"u1,6,view,1767225606",
        ]
    )
    response = _upload(installed, "history.csv", data)
    assert (response.status_code, response.json()) == (
        200,
        {
            "rows": 7,
            "accepted": 2,
            "rejected": 5,
            "errors": [
                {"line": 3, "reason": "line has a NUL character"},
                {"line": 4, "reason": "line is longer than 65536 bytes"},
                {"line": 5, "reason": "line is not UTF-8 (byte 10)"},
                {"line": 6, "reason": "line has 2 fields, the header 4"},
                {"line": 7, "reason": "line has 6 fields, the header 4"},
            ],
        },
    )
    assert _items(installed) == ["1", "6"]


def test_poison_json_lines_report_their_bad_lines_and_import_the_good(
    installed: str, fake: FakeShopify
) -> None:
    good = (
        b'{"user_id": "u1", "item_id": "%d", "interaction_type": "view", "timestamp": 1767225600}'
    )
    data = b"\n".join(
        [
            good % 1,
            b'{"user_id": "u1", "item_id": ' + b"[" * 2000 + b"]" * 2000 + b"}",
            b'{"user_id": "u1", "timestamp": ' + b"1" * 5000 + b"}",
            b'{"user_id": "u1\\u0000", "item_id": "3"}',
            b"\xff\xfe",
            good % 2,
        ]
    )
    response = _upload(installed, "history.ndjson", data)
    assert (response.status_code, response.json()) == (
        200,
        {
            "rows": 6,
            "accepted": 2,
            "rejected": 4,
            "errors": [
                {"line": 2, "reason": "line is nested deeper than 32 levels"},
                {"line": 3, "reason": "line has a number longer than 40 characters"},
                {"line": 4, "reason": "line has a string with a NUL character (\\u0000)"},
                {"line": 5, "reason": "line is not UTF-8 (byte 0)"},
            ],
        },
    )
    assert _items(installed) == ["1", "2"]


def test_a_shops_first_history_queues_its_first_models_once(
    installed: str, fake: FakeShopify, retrainings: list[dict[str, object]]
) -> None:
    rows = b"user_id,item_id,interaction_type,timestamp\nu1,1,view,1767225600\n"
    assert _upload(installed, "history.csv", rows).status_code == 200
    assert retrainings == [{"shop": installed}]
    # Queued (its claim held): a second file queues nothing more.
    again = b"user_id,item_id,interaction_type,timestamp\nu2,2,view,1767225601\n"
    assert _upload(installed, "more.csv", again).status_code == 200
    assert retrainings == [{"shop": installed}]
