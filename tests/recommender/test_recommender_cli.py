"""`python -m recommender benchmark|train` end to end on a small file, with a real MLflow store."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from recommender import registry
from recommender.__main__ import main


def _ring_file(path: Path, users: int = 120, items: int = 15) -> Path:
    """One line per shopper (the Beauty format): walks along a ring of items."""
    rng = random.Random(3)
    lines = []
    for u in range(users):
        start = rng.randrange(items)
        lines.append(" ".join([f"u{u}"] + [f"i{(start + s) % items}" for s in range(7)]))
    path.write_text("\n".join(lines) + "\n")
    return path


QUICK = ["--max-epochs", "3", "--threads", "1", "--quiet", "--lr", "0.005"]


def test_benchmark_prints_a_table_and_writes_every_figure(tmp_path: Path, capsys) -> None:
    data = _ring_file(tmp_path / "ring.txt")
    out = tmp_path / "result.json"
    models = "popularity,covisit,sasrec"
    argv = ["benchmark", "--data", str(data), "--format", "sequences", "--models", models,
            "--negatives", "5", "--json", str(out), *QUICK]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert (result["items"], result["interactions"]) == (15, 120 * 7)
    sasrec, popularity = result["models"]["sasrec"], result["models"]["popularity"]
    for row in (sasrec, popularity):
        assert 0.0 <= row["ndcg@10"] <= row["hr@10"] <= 1.0
        assert 0.0 <= row["auc"] <= 1.0
        assert 0.0 <= row["gauc"] <= 1.0
        assert row["cases"] == 120
        assert row["inference_ms_p50"] > 0
    assert sasrec["epochs"] == 3
    assert sasrec["train_s"] > 0
    # Co-visitation knows the ring: the item after the last one comes first.
    assert result["models"]["covisit"]["ndcg@10"] > popularity["ndcg@10"]
    assert "sasrec" in capsys.readouterr().out


def test_benchmark_on_a_sample_of_users_sees_only_theirs(tmp_path: Path) -> None:
    # User u viewed 2 + u % 6 items: a sample's size shows which users it drew.
    lines = [
        " ".join([f"u{u}"] + [f"i{(u + s) % 15}" for s in range(2 + u % 6)]) for u in range(120)
    ]
    data = tmp_path / "users.txt"
    data.write_text("\n".join(lines) + "\n")
    common = ["benchmark", "--data", str(data), "--format", "sequences", "--quiet"]
    runs = []
    for seed in ("0", "0", "1"):
        out = tmp_path / f"seed{seed}.json"
        assert main([*common, "--users", "30", "--seed", seed, "--json", str(out)]) == 0
        runs.append(json.loads(out.read_text()))
    assert [r["users_or_sessions"] for r in runs] == [30, 30, 30]
    assert all(0 < r["models"]["covisit"]["cases"] <= 30 for r in runs)  # one each, at most
    # The seed draws the sample: the same seed, the same users and figures.
    figures = [{k: r["models"][k]["ndcg@10"] for k in r["models"]} for r in runs]
    assert (runs[0]["interactions"], figures[0]) == (runs[1]["interactions"], figures[1])
    assert runs[0]["interactions"] != runs[2]["interactions"]
    assert main([*common, "--users", "500", "--json", str(tmp_path / "all.json")]) == 0
    assert json.loads((tmp_path / "all.json").read_text())["users_or_sessions"] == 120
    with pytest.raises(SystemExit, match="--users wants a positive number"):
        main([*common, "--users", "0"])


def test_benchmark_refuses_unknown_models_and_bad_settings(tmp_path: Path) -> None:
    data = str(_ring_file(tmp_path / "ring.txt"))
    with pytest.raises(SystemExit, match="unknown model 'gru'"):
        main(["benchmark", "--data", data, "--format", "sequences", "--models", "gru"])
    with pytest.raises(SystemExit, match=r"kind\.field=value"):
        main(["benchmark", "--data", data, "--format", "sequences", "--set", "dropout"])
    with pytest.raises(SystemExit, match="needs --test"):
        main(["benchmark", "--data", data, "--format", "sequences", "--protocol", "temporal"])


@pytest.mark.integration
def test_train_registers_a_challenger_and_promotes_it_only_when_not_worse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    data = str(_ring_file(tmp_path / "ring.txt"))
    common = ["train", "--data", data, "--format", "sequences", "--tracking-uri", uri,
              "--artifact-location", str(tmp_path / "artifacts"), "--promote", *QUICK]  # fmt: skip

    assert main([*common, "--model", "covisit", "--json", str(tmp_path / "a.json")]) == 0
    first = json.loads((tmp_path / "a.json").read_text())
    assert (first["model"], first["version"], first["promoted"]) == (
        "slipstream-covisit",
        "1",
        True,
    )

    # Popularity ignores the ring; registered under its own name, it is its own first champion.
    assert main([*common, "--model", "popularity", "--json", str(tmp_path / "b.json")]) == 0
    assert json.loads((tmp_path / "b.json").read_text())["version"] == "1"

    # A co-visitation model that may only pair items a second apart knows nothing: worse.
    worse = [*common, "--model", "covisit", "--set", "covisit.window_s=0.5"]
    assert main([*worse, "--json", str(tmp_path / "c.json")]) == 0
    third = json.loads((tmp_path / "c.json").read_text())
    assert third["version"] == "2"
    assert third["promoted"] is False
    assert third["champion_ndcg"] > third["ndcg@10"]
    assert registry.alias_version(kind="covisit", alias="champion", tracking_uri=uri) == "1"
    assert registry.alias_version(kind="covisit", alias="challenger", tracking_uri=uri) == "2"
    assert not (tmp_path / "mlruns").exists()


def test_benchmark_measures_a_warm_start_on_the_last_day(tmp_path: Path) -> None:
    from recommender.synthetic import generate_store, write_interactions_csv

    store = generate_store(n_shoppers=200)
    times = sorted(i.ts for i in store.interactions)
    cut = times[int(len(times) * 0.85)]
    write_interactions_csv([i for i in store.interactions if i.ts < cut], tmp_path / "train.csv")
    write_interactions_csv([i for i in store.interactions if i.ts >= cut], tmp_path / "test.csv")
    out = tmp_path / "warm.json"
    train, test = str(tmp_path / "train.csv"), str(tmp_path / "test.csv")
    argv = ["benchmark", "--data", train, "--test", test,
            "--format", "interactions", "--protocol", "temporal", "--models", "sasrec",
            "--warm-days", "1", "--warm-epochs", "1", "--json", str(out), *QUICK]  # fmt: skip
    assert main(argv) == 0
    row = json.loads(out.read_text())["models"]["sasrec"]
    assert row["new_interactions"] > 0
    assert 0 < row["warm_train_s"] < row["train_s"]
    assert 0 < row["warm_over_full"] < 1
    for prefix in ("base_", "warm_"):
        assert 0.0 <= row[f"{prefix}ndcg@10"] <= row[f"{prefix}hr@10"] <= 1.0
        assert row[f"{prefix}recall@20"] >= row[f"{prefix}hr@10"]


def test_set_train_fields_and_the_sampler_reach_training_and_the_result(tmp_path: Path) -> None:
    from recommender.__main__ import parser
    from recommender.commands import _train_config

    data = str(_ring_file(tmp_path / "ring.txt"))
    sets = ["--set", "train.adam_beta2=0.98", "--set", "train.min_steps=7", "--lr", "0.01",
            "--set", "train.max_seconds=450", "--set", "train.progress=false"]  # fmt: skip
    args = parser().parse_args(["benchmark", "--data", data, "--format", "sequences", *sets])
    config = _train_config(args)
    assert (config.adam_beta2, config.min_steps, config.learning_rate) == (0.98, 7, 0.01)
    assert (config.max_seconds, config.progress) == (450.0, False)
    out = tmp_path / "result.json"
    argv = ["benchmark", "--data", data, "--format", "sequences", "--models", "popularity",
            "--negatives", "3", "--sampler", "distinct", "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert result["sampler"] == "distinct"
    assert result["models"]["popularity"]["sampled_cases"] == 120
    with pytest.raises(ValueError, match="TrainConfig has no field colour"):
        _train_config(parser().parse_args([*argv[:5], "--set", "train.colour=red"]))


def test_refit_fits_every_kind_on_the_validation_targets_too(tmp_path: Path, monkeypatch) -> None:
    from recommender import commands

    fed: list[tuple[str, int]] = []  # (kind, interactions it was fitted on), each build in turn
    real_build = commands.build

    def recording_build(kind: str, train: list, valid: list, **kwargs: Any) -> Any:
        fed.append((kind, len(train)))
        return real_build(kind, train, valid, **kwargs)

    monkeypatch.setattr(commands, "build", recording_build)
    data = str(_ring_file(tmp_path / "ring.txt"))
    runs = {}
    for refit in ([], ["--refit"]):
        fed.clear()
        argv = ["benchmark", "--data", data, "--format", "sequences", "--models", "covisit,sasrec",
                *refit, *QUICK]  # fmt: skip
        assert main(argv) == 0
        runs[bool(refit)] = list(fed)
    # 120 shoppers of 7 items: the last is the test target, the one before it validates.
    assert runs[False] == [("covisit", 120 * 5), ("sasrec", 120 * 5)]
    # Refit: co-visitation fitted once on the validation targets too; SASRec selects its epochs
    # without them, then trains afresh with them.
    assert runs[True] == [("covisit", 120 * 6), ("sasrec", 120 * 5), ("sasrec", 120 * 6)]
