"""The operator's commands (docs/operations.md, "Operator commands"): each does its one thing for
one shop, ends stdout with one line of JSON, and refuses bad input with a one-line CommandError."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shopapp.events.importing import interactions_file_import
from shopapp.events.management.commands import interactions_import
from shopapp.events.models import Interaction
from shopapp.events.normalise import InteractionRecord
from shopapp.events.services import interactions_ingest
from shopapp.recs.keys import recs_key
from shopapp.recs.models import ModelDecision
from shopapp.recs.scheduling import retrain_claim, retrain_release
from shopapp.recs.training import RETRAINED
from shopapp.redis import get_redis
from shopapp.shops.models import Shop
from shopapp.shops.services import shop_install

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
HEADER = "user_id,item_id,interaction_type,timestamp"
VISITOR = f"v:{uuid.UUID(int=7)}"


@pytest.fixture
def mlflow_uri(settings: Any, tmp_path: Path) -> str:
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    return str(settings.MLFLOW_TRACKING_URI)


@pytest.fixture
def other_shop(db: None) -> str:
    domain = f"other-{uuid.uuid4().hex[:10]}.myshopify.com"
    shop_install(domain=domain)
    return domain


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[Any, str]:
    """The command's last stdout line, parsed, and its stderr."""
    call_command(*args)
    out, err = capsys.readouterr()
    return json.loads(out.splitlines()[-1]), err


def _refusal(*args: str) -> str:
    with pytest.raises(CommandError) as raised:
        call_command(*args)
    message = str(raised.value)
    assert "\n" not in message
    return message


def _items(shop: str) -> list[str]:
    return sorted(Interaction.objects.filter(shop__domain=shop).values_list("item_id", flat=True))


def _file(tmp_path: Path, name: str, lines: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# interactions_import


def test_an_import_ends_with_its_summary(
    shop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, "h.csv", [HEADER, "u1,1,view,1767225600", "u2,2,purchase,1767225601"])
    summary, err = _run(capsys, "interactions_import", "--shop", shop, path)
    assert summary == {"imported": 2, "rejected": 0}
    assert _items(shop) == ["1", "2"]
    assert "line " not in err


def test_broken_rows_are_reported_by_line_and_the_good_rows_imported(
    shop: str, other_shop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    # Blocks of two lines, so a header goes in front of each and every line number is mapped.
    monkeypatch.setattr(interactions_import, "BLOCK_LINES", 2)
    lines = [
        HEADER,
        "u1,1,view,1767225600",
        "u1,2,stare,1767225601",  # 3: unknown interaction
        "",
        "u1,3",  # 5: short
        "u1,4,view,1767225603",
        "u1,,view,1767225604",  # 7: empty item
        "u2,5,cart,1767225605",
    ]
    path = _file(tmp_path, "h.csv", lines)
    summary, err = _run(capsys, "interactions_import", "--shop", shop, path)

    assert summary == {"imported": 3, "rejected": 3}
    assert _items(shop) == ["1", "4", "5"]
    reported = [line for line in err.splitlines() if line.startswith("line ")]
    assert reported == [
        "line 3: unknown interaction_type 'stare'",
        "line 5: line has 2 fields, the header 4",
        "line 7: item_id is empty",
    ]
    # The same numbers and reasons as the dashboard's upload of the whole file.
    whole = interactions_file_import(
        shop=other_shop, filename="h.csv", data=Path(path).read_bytes()
    )
    assert reported == [f"line {n}: {reason}" for n, reason in whole.errors]


def test_blocks_read_a_file_as_the_importer_reads_it_whole(
    shop: str, other_shop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """A BOM, blank lines before the header, CRLF and lone-CR line ends across block edges."""
    monkeypatch.setattr(interactions_import, "BLOCK_LINES", 2)
    data = (
        b"\xef\xbb\xbf\n\r\n\n"
        + HEADER.encode()
        + b"\r\nu1,1,view,1767225600\r\nu1,2,stare,1767225601\ru1,3,view,1767225602\n"
        + b"\r\nu1,4\r\nu1,5,cart,1767225605\nu1,6,view,\xff\n"
    )
    path = tmp_path / "h.csv"
    path.write_bytes(data)
    summary, err = _run(capsys, "interactions_import", "--shop", shop, str(path))

    whole = interactions_file_import(shop=other_shop, filename="h.csv", data=data)
    assert whole.errors == [
        (6, "unknown interaction_type 'stare'"),
        (9, "line has 2 fields, the header 4"),
        (11, "line is not UTF-8 (byte 10)"),
    ]
    assert [line for line in err.splitlines() if line.startswith("line ")] == [
        f"line {n}: {reason}" for n, reason in whole.errors
    ]
    assert summary == {"imported": whole.accepted, "rejected": 3}
    assert _items(shop) == _items(other_shop) == ["1", "3", "5"]


def test_json_lines_in_blocks_keep_their_line_numbers(
    shop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setattr(interactions_import, "BLOCK_LINES", 2)
    row = {"user_id": "u1", "interaction_type": "view", "timestamp": 1767225600}
    lines = [json.dumps({**row, "item_id": str(n)}) for n in range(1, 5)]
    lines.insert(2, "[1, 2]")  # line 3
    lines.append("{nope")  # line 6
    path = _file(tmp_path, "h.jsonl", lines)
    summary, err = _run(capsys, "interactions_import", "--shop", shop, path)
    assert summary == {"imported": 4, "rejected": 2}
    assert [line for line in err.splitlines() if line.startswith("line ")] == [
        "line 3: not a JSON object",
        "line 6: not a JSON line",
    ]


def test_only_the_first_200_errors_are_listed(
    shop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, "h.csv", [HEADER] + ["u1,1,stare,1767225600"] * 250)
    summary, err = _run(capsys, "interactions_import", "--shop", shop, path)
    assert summary == {"imported": 0, "rejected": 250}
    listed = [line for line in err.splitlines() if line.startswith("line ")]
    assert listed[0] == "line 2: unknown interaction_type 'stare'"
    assert len(listed) == 200
    assert "... and 50 more rejected lines" in err.splitlines()


def test_an_import_refuses_an_unknown_shop_a_missing_file_and_a_bad_header(
    shop: str, tmp_path: Path
) -> None:
    good = _file(tmp_path, "h.csv", [HEADER, "u1,1,view,1767225600"])
    assert _refusal("interactions_import", "--shop", "nope.myshopify.com", good) == (
        "unknown shop 'nope.myshopify.com': no installed shop has this domain"
    )
    missing = str(tmp_path / "absent.csv")
    assert _refusal("interactions_import", "--shop", shop, missing) == (
        f"cannot read {missing}: No such file or directory"
    )
    assert _refusal("interactions_import", "--shop", shop, str(tmp_path)) == (
        f"cannot read {tmp_path}: Is a directory"
    )
    bad = _file(tmp_path, "bad.csv", ["user_id,item_id", "u1,1"])
    assert _refusal("interactions_import", "--shop", shop, bad) == (
        f"{bad}: missing columns: interaction_type, timestamp"
    )
    assert _items(shop) == []


# models_retrain


def _history(shop: str, *, items: tuple[str, str, str] = ("1", "2", "3")) -> None:
    """The first item is the best seller before the holdout day, and every holdout target."""
    best, second, third = items
    rows = []
    for n in range(20):
        at = NOW - timedelta(days=3, minutes=n)
        rows += [(n, best, at), (n, second if n % 2 else third, at - timedelta(seconds=30))]
        rows.append((n, best, NOW - timedelta(hours=2, minutes=n)))  # the holdout day
    s = Shop.objects.get(domain=shop)
    Interaction.objects.bulk_create(
        Interaction(
            shop=s, user_id=f"c:{u + 1}", item_id=i, interaction="view", ts=at, event_id=f"e{n}"
        )
        for n, (u, i, at) in enumerate(rows)
    )


def test_a_retrain_prints_its_decision_with_every_candidate(
    shop: str, mlflow_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(shop)
    decision, _ = _run(capsys, "models_retrain", "--shop", shop, "--now", NOW.isoformat())

    assert decision["shop"] == shop
    assert decision["cases"] == 20
    # Too few cases for a neural kind: they are not fitted, and co-visitation serves.
    by_kind = {c["kind"]: c for c in decision["candidates"]}
    assert list(by_kind) == ["popularity", "covisit"]
    assert decision["serving"] == {"kind": "covisit", "version": by_kind["covisit"]["version"]}
    assert (by_kind["popularity"]["ndcg_at_10"], by_kind["popularity"]["hr_at_10"]) == (1.0, 1.0)
    assert all(c["promoted"] and c["version"] == "1" for c in by_kind.values())
    recorded = ModelDecision.objects.get(shop__domain=shop)
    assert (recorded.decided_at, recorded.serving_kind) == (NOW, "covisit")


def test_a_retrain_of_one_kind_at_a_naive_time_is_utc(
    shop: str, mlflow_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(shop)
    naive = NOW.replace(tzinfo=None).isoformat()
    decision, _ = _run(
        capsys, "models_retrain", "--shop", shop, "--kind", "popularity", "--now", naive
    )
    assert [c["kind"] for c in decision["candidates"]] == ["popularity"]
    assert decision["serving"] == {"kind": "popularity", "version": "1"}
    assert ModelDecision.objects.get(shop__domain=shop).decided_at == NOW


def test_a_retrain_without_history_says_so(
    shop: str, mlflow_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    decision, _ = _run(capsys, "models_retrain", "--shop", shop)
    assert decision == {"shop": shop, "serving": None, "reason": "no history to train on"}
    assert not ModelDecision.objects.filter(shop__domain=shop).exists()


def test_a_retrain_refuses_bad_input_and_a_retraining_under_way(shop: str, mlflow_uri: str) -> None:
    assert _refusal("models_retrain", "--shop", "nope.myshopify.com") == (
        "unknown shop 'nope.myshopify.com': no installed shop has this domain"
    )
    assert _refusal("models_retrain", "--shop", shop, "--kind", "als") == (
        f"unknown kind 'als': one of {', '.join(RETRAINED)}"
    )
    assert _refusal("models_retrain", "--shop", shop, "--now", "yesterday") == (
        "--now 'yesterday' is not an ISO 8601 time"
    )
    assert retrain_claim(shop=shop)
    try:
        assert _refusal("models_retrain", "--shop", shop) == (
            f"a retraining of {shop} is already queued or running"
        )
        assert not retrain_claim(shop=shop)  # the refused run left the claim to its holder
    finally:
        retrain_release(shop=shop)
    call_command("models_retrain", "--shop", shop)
    assert retrain_claim(shop=shop)  # a finished run released its own
    retrain_release(shop=shop)


# models_status


def test_a_retrain_of_one_shop_leaves_another_shops_status_unchanged(
    shop: str, other_shop: str, mlflow_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(shop)
    _history(other_shop, items=("7", "8", "9"))
    at = NOW.isoformat()
    _run(capsys, "models_retrain", "--shop", other_shop, "--kind", "popularity", "--now", at)
    before, _ = _run(capsys, "models_status", "--shop", other_shop, "--json")

    decision, _ = _run(capsys, "models_retrain", "--shop", shop, "--now", at)
    status, _ = _run(capsys, "models_status", "--shop", shop, "--json")

    assert _run(capsys, "models_status", "--shop", other_shop, "--json")[0] == before
    assert before["serving"]["kind"] == "popularity"
    assert before["kinds"]["covisit"] == {"champion": None, "challenger": None}
    # The retrained shop's status is its decision.
    assert status["serving"]["kind"] == decision["serving"]["kind"] == "covisit"
    assert status["serving"]["version"] == decision["serving"]["version"]
    assert status["reason"] == decision["reason"]
    assert status["decided_at"] == at
    champion = status["kinds"]["popularity"]["champion"]
    assert (champion["version"], champion["ndcg_at_10"], champion["hr_at_10"]) == ("1", 1.0, 1.0)


def test_models_status_as_a_table(
    shop: str, mlflow_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("models_status", "--shop", shop)
    assert capsys.readouterr().out.splitlines()[0] == f"{shop}: serving nothing: never retrained"
    _history(shop)
    call_command("models_retrain", "--shop", shop, "--kind", "popularity", "--now", NOW.isoformat())
    capsys.readouterr()

    call_command("models_status", "--shop", shop)

    head, columns, *rows = capsys.readouterr().out.splitlines()
    assert head == (
        f"{shop}: serving popularity v1: {ModelDecision.objects.get().reason}"
        f" (decided {NOW.isoformat()})"
    )
    assert columns.split() == [
        "kind",
        "alias",
        "version",
        "NDCG@10",
        "HR@10",
        "cases",
        "trained",
        "at",
    ]
    cells = [row.split() for row in rows]
    assert [c[:2] for c in cells] == [
        [kind, alias] for kind in RETRAINED for alias in ("champion", "challenger")
    ]
    # The first retraining's popularity is both its champion and its challenger.
    assert cells[0][2:6] == cells[1][2:6] == ["1", "1.0000", "1.0000", "20"]
    assert all(c[2:] == ["-"] * 5 for c in cells[2:])


def test_models_status_refuses_an_unknown_shop(db: None) -> None:
    assert _refusal("models_status", "--shop", "nope.myshopify.com", "--json") == (
        "unknown shop 'nope.myshopify.com': no installed shop has this domain"
    )


# recommendations_for


def _viewed(shop: str, *, user_id: str, item_id: str) -> None:
    """One product view, ingested as the worker ingests it (window and history)."""
    record = InteractionRecord(
        shop=shop,
        user_id=user_id,
        item_id=item_id,
        interaction="view",
        ts=time.time(),
        event_id=f"{user_id}-{item_id}",
    )
    interactions_ingest(shop=shop, records=[record])


def test_recommendations_for_a_shopper_are_shown_and_not_stored(
    shop: str, mlflow_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(shop)
    _run(capsys, "models_retrain", "--shop", shop, "--kind", "popularity", "--now", NOW.isoformat())
    _viewed(shop, user_id=VISITOR, item_id="2")

    shown, _ = _run(capsys, "recommendations_for", "--shop", shop, "--user", VISITOR)

    # By popularity (1 leads 2 and 3), less the product in the shopper's window.
    assert shown["items"] == ["1", "3"]
    assert shown["scores"][0] > shown["scores"][1] > 0
    assert shown["source"] == "model:popularity"
    assert shown["model_version"].endswith("/1")
    assert (shown["shop"], shown["user"]) == (shop, VISITOR)
    assert get_redis().exists(recs_key(shop, VISITOR)) == 0

    shown, _ = _run(capsys, "recommendations_for", "--shop", shop, "--user", VISITOR, "--k", "1")
    assert (shown["items"], len(shown["scores"])) == (["1"], 1)


def test_why_a_shopper_has_no_list_is_explained(
    shop: str, mlflow_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shown, _ = _run(capsys, "recommendations_for", "--shop", shop, "--user", "c:42")
    assert shown == {
        "shop": shop,
        "user": "c:42",
        "items": [],
        "reason": "no recent activity: the app proxy serves the shop's popular list",
    }
    _viewed(shop, user_id="c:42", item_id="2")
    shown, _ = _run(capsys, "recommendations_for", "--shop", shop, "--user", "c:42")
    assert shown["reason"] == (
        "no model serves this shop yet: the app proxy serves its trending and popular lists"
    )
    assert get_redis().exists(recs_key(shop, "c:42")) == 0
    Shop.objects.filter(domain=shop).update(uninstalled_at=NOW)
    shown, _ = _run(capsys, "recommendations_for", "--shop", shop, "--user", "c:42")
    assert shown["reason"] == "the shop is uninstalled: nothing is computed for it"


def test_recommendations_for_refuses_bad_input(shop: str) -> None:
    assert _refusal("recommendations_for", "--shop", "nope.myshopify.com", "--user", "c:1") == (
        "unknown shop 'nope.myshopify.com': no installed shop has this domain"
    )
    assert _refusal("recommendations_for", "--shop", shop, "--user", "42") == (
        "--user '42' is not a shopper id: c:<customer id>, v:<uuid> or i:<id>"
    )
    for k in ("0", "-3", "ten"):
        assert _refusal("recommendations_for", "--shop", shop, "--user", "c:1", "--k", k) == (
            f"--k {k!r} is not a whole number of at least 1"
        )
