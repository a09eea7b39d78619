import json
from pathlib import Path
from typing import Any

import pytest

from recommender.kinds import KINDS, NEURAL, kind_get
from recommender.popularity import Popularity, PopularityConfig
from recommender.predictor import Predictor, load_model
from recommender.types import Interaction, Scored


def _predictor() -> Predictor:
    interactions = [
        Interaction("u1", "1001", "purchase", 10.0),
        Interaction("u1", "1002", "cart", 20.0),
        Interaction("u2", "1003", "view", 30.0),
    ]
    model = Popularity.fit(interactions, PopularityConfig())
    return Predictor(model=model, version="3", name="slipstream-popularity")


def test_the_kinds_registry_maps_each_kind_to_the_class_that_saves_it() -> None:
    assert set(KINDS) == {"popularity", "covisit", "als", "stan", "sasrec", "slirec"}
    assert NEURAL == ("sasrec", "slirec")
    for kind in KINDS:
        assert kind_get(kind).model_class().kind == kind
        # Every kind's default config is a dataclass its class is fitted with.
        assert kind_get(kind).default_config(timed=True) is not None
    with pytest.raises(ValueError, match="unknown model kind 'mystery'"):
        kind_get("mystery")


def test_recommend_batch_gives_one_list_per_history_with_its_own_exclusions() -> None:
    predictor = _predictor()

    recs = predictor.recommend_batch(
        histories=[[("1001", 10.0)], [], [("1003", 30.0)]],
        k=2,
        excludes=[{"1001"}, (), ["1001", "1002"]],
    )

    assert recs == [
        [Scored("1002", 3.0), Scored("1003", 1.0)],
        [Scored("1001", 5.0), Scored("1002", 3.0)],
        [Scored("1003", 1.0)],
    ]


def test_recommend_batch_rejects_mismatched_excludes() -> None:
    with pytest.raises(ValueError, match="got 2 histories but 1 exclude sets"):
        _predictor().recommend_batch(histories=[[], []], k=2, excludes=[()])


def test_load_model_rejects_unknown_kind(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"kind": "mystery"}), encoding="utf-8")

    with pytest.raises(ValueError, match="unknown model kind 'mystery'"):
        load_model(tmp_path)


def test_load_model_rejects_directory_without_config(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"config\.json is missing"):
        load_model(tmp_path)


def test_load_model_rejects_config_without_kind(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"weights": {}}), encoding="utf-8")

    with pytest.raises(ValueError, match="does not say which kind"):
        load_model(tmp_path)


@pytest.mark.parametrize("kind", ["popularity", "sasrec", "slirec"])
def test_a_shared_exclusion_acts_as_if_each_shopper_had_it_in_their_own(kind: str) -> None:
    # Untrained weights score every item; what matters is which items may appear.
    items = [f"p{n}" for n in range(30)]
    world = [Interaction(f"u{n % 7}", item, "view", float(n)) for n, item in enumerate(items * 3)]
    spec = kind_get(kind)
    cls: Any = spec.model_class()
    config = spec.default_config(timed=False)
    model = cls.create(config, world) if kind in NEURAL else cls.fit(world, config)
    predictor = Predictor(model=model, version="1", name=f"slipstream-{kind}")
    histories = [[("p1", 1.0), ("p2", 2.0)], [("p3", 3.0)], []]
    own = [{"p4"}, set(), {"p5", "p6"}]
    shared = frozenset(items[10:25])

    merged = predictor.recommend_batch(
        histories=histories, k=10, excludes=[shared | mine for mine in own]
    )
    split = predictor.recommend_batch(
        histories=histories, k=10, excludes=own, shared_exclude=shared
    )
    again = predictor.recommend_batch(
        histories=histories, k=10, excludes=own, shared_exclude=shared
    )

    assert split == merged == again
    for scored, mine in zip(split, own, strict=True):
        assert not {s.item_id for s in scored} & (shared | mine)
