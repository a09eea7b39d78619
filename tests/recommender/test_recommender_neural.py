"""The neural models on small synthetic worlds where the right answer is known.

Each world is learnable only by a model that does what it claims: follow order (SASRec), use
the time between actions (SLi-Rec), mask padding, carry weights into a warm start.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from recommender.build import build
from recommender.data import leave_one_out
from recommender.evaluate import evaluate
from recommender.neural import NeuralRecommender
from recommender.sasrec import SASRec, SASRecConfig
from recommender.sequences import PAD, Sequences, Vocabulary, encode_histories
from recommender.slirec import SLiRec, SLiRecConfig
from recommender.trainer import fit
from recommender.types import Interaction, TrainConfig
from tests.recommender.worlds import ring_world

# One thread: tests run beside other processes, and oversubscribed torch threads crawl.
QUICK = TrainConfig(
    max_epochs=30, patience=30, batch_size=64, learning_rate=5e-3, threads=1, progress=False
)


def _timing_world(users: int = 300) -> list[Interaction]:
    """After "x" then "a", the next item is "quick" when "a" came within a minute of "x", and
    "slow" when it came a day later. Only the time between actions tells them apart."""
    rng = random.Random(1)
    out = []
    for u in range(users):
        t = 1_000_000.0 + u * 10 * 86_400
        fillers = [f"f{rng.randrange(6)}" for _ in range(2)]
        quick = u % 2 == 0
        gap = 30.0 if quick else 86_400.0
        events = [(fillers[0], t), (fillers[1], t + 60), ("x", t + 120), ("a", t + 120 + gap)]
        events.append(("quick" if quick else "slow", events[-1][1] + 30))
        out += [Interaction(f"u{u}", item, "view", ts) for item, ts in events]
    return out


def test_vocabulary_ranks_by_frequency_and_extends_without_moving_known_items() -> None:
    seen = [Interaction("u", item, "view", 0.0) for item in ["b", "a", "b", "c", "b", "a"]]
    vocab = Vocabulary.build(seen)
    assert vocab.items == ("b", "a", "c")
    assert len(vocab) == 4
    assert (vocab.get("b"), vocab.get("zzz")) == (1, PAD)
    grown = vocab.extend([Interaction("u", "d", "view", 1.0), Interaction("u", "a", "view", 1.0)])
    assert grown.items == ("b", "a", "c", "d")


def test_windows_are_left_padded_and_never_cross_shoppers() -> None:
    seen = [
        Interaction("u1", "a", "view", 1.0),
        Interaction("u1", "b", "view", 2.0),
        Interaction("u2", "c", "view", 1.0),
        Interaction("u2", "a", "view", 3.0),
        Interaction("u2", "b", "view", 2.0),  # out of order in the file
    ]
    vocab = Vocabulary(("a", "b", "c"))
    data = Sequences.build(seen, vocab)
    assert data.items.tolist() == [1, 2, 3, 2, 1]  # u1: a b; u2: c b a (time order)
    items, ts = data.windows(torch.tensor([2, 5, 4]), 3)
    # End 2 is u2's first position: the window is u1's whole sequence, not u2's.
    assert items.tolist() == [[0, 1, 2], [3, 2, 1], [0, 3, 2]]
    assert ts.tolist() == [[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [0.0, 1.0, 2.0]]
    assert data.targets().tolist() == [1, 3, 4]
    assert data.targets(since=2.5).tolist() == [4]


def test_encoded_histories_skip_unknown_items_and_keep_the_latest() -> None:
    vocab = Vocabulary(("a", "b", "c"))
    items, _ = encode_histories([[("c", 3.0), ("zzz", 4.0), ("a", 1.0), ("b", 2.0)]], vocab, 2)
    assert items.tolist() == [[2, 3]]


def _trained(model: NeuralRecommender, world: list[Interaction]) -> NeuralRecommender:
    split = leave_one_out(world)
    fit(model, split.train, split.valid, QUICK)
    return model


def test_sasrec_learns_what_comes_next() -> None:
    world = ring_world()
    model = _trained(SASRec.create(SASRecConfig(dim=32, dropout=0.1), world), world)
    history = [("i3", 1.0), ("i4", 2.0), ("i5", 3.0)]
    assert model.recommend(history=history, k=1)[0].item_id == "i6"
    metrics = evaluate(model, leave_one_out(world).cases, k=1)
    assert metrics.hr > 0.8  # popularity would get 1/12


def test_slirec_uses_the_time_between_actions() -> None:
    world = _timing_world()
    config = SLiRecConfig(dim=16, dropout=0.0, negatives=6, covisit_window_s=float("inf"))
    model = SLiRec.create(config, world)
    torch.manual_seed(0)
    split = leave_one_out(world)
    # Every epoch runs and the last is kept: the validation cases ("a" after "x") do not
    # depend on timing, so picking the epoch that predicts them best picked one by chance.
    trained = TrainConfig(**{**QUICK.__dict__, "max_epochs": 40, "valid_cases": 0})
    fit(model, world, split.valid, trained)
    t = 5e9
    soon = model.score(history=[("f1", t), ("x", t + 60), ("a", t + 90)], items=["quick", "slow"])
    later = model.score(
        history=[("f1", t), ("x", t + 60), ("a", t + 60 + 86_400)], items=["quick", "slow"]
    )
    assert soon[0] > soon[1]
    assert later[1] > later[0]


@pytest.mark.parametrize("kind", ["sasrec", "slirec"])
def test_padding_does_not_change_a_shoppers_scores(kind: str) -> None:
    # A short history scored alone (no padding) and beside a long one (left-padded) must score
    # the same: padding is masked everywhere, in attention and in the LSTM.
    world = ring_world()
    model: NeuralRecommender = (
        SASRec.create(SASRecConfig(dim=16, dropout=0.0), world)
        if kind == "sasrec"
        else SLiRec.create(SLiRecConfig(dim=16, dropout=0.0), world)
    )
    model.net.eval()
    short = [("i1", 10.0), ("i2", 70.0)]
    long = [(f"i{n % 12}", 10.0 + 60 * n) for n in range(9)]
    alone = model.recommend_batch(histories=[short], k=5, excludes=[()])[0]
    batched = model.recommend_batch(histories=[long, short], k=5, excludes=[(), ()])[1]
    assert [s.item_id for s in alone] == [s.item_id for s in batched]
    for a, b in zip(alone, batched, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-5)


@pytest.mark.parametrize("kind", ["sasrec", "slirec"])
def test_recommendations_exclude_history_and_exclusions_and_round_trip(
    kind: str, tmp_path: Path
) -> None:
    world = ring_world()
    split = leave_one_out(world)
    brief = TrainConfig(max_epochs=2, threads=1, progress=False)
    built = build(kind, split.train, split.valid, timed=True, train_config=brief)
    model = built.model
    history = [("i3", 1.0), ("i4", 2.0)]
    recs = model.recommend(history=history, k=6, exclude={"i5"})
    assert len(recs) == 6
    assert not {"i3", "i4", "i5"} & {s.item_id for s in recs}
    model.save(tmp_path / "m")
    loaded = type(model).load(tmp_path / "m")
    assert loaded.recommend(history=history, k=6, exclude={"i5"}) == recs
    assert isinstance(loaded, NeuralRecommender)
    assert loaded.score(history=history, items=["i5", "nope"])[1] == float("-inf")


def test_training_is_deterministic_for_a_seed_and_keeps_the_best_epoch() -> None:
    world = ring_world()
    split = leave_one_out(world)
    config = TrainConfig(max_epochs=4, patience=4, batch_size=64, seed=7, threads=1, progress=False)
    first = SASRec.create(SASRecConfig(dim=16), split.train)
    second = SASRec.create(SASRecConfig(dim=16), split.train)
    second.net.load_state_dict(first.net.state_dict())
    a = fit(first, split.train, split.valid, config)
    b = fit(second, split.train, split.valid, config)
    assert [e.loss for e in a.epochs] == [e.loss for e in b.epochs]
    assert a.best_ndcg == max([a.epochs[0].valid_ndcg, *(e.valid_ndcg for e in a.epochs)])
    # The weights left in the model are the best epoch's: validating again gives its score.
    assert evaluate(first, split.valid, k=10).ndcg == pytest.approx(a.best_ndcg)


def test_early_stopping_stops_after_patience_epochs_without_progress() -> None:
    world = ring_world()
    split = leave_one_out(world)
    model = SASRec.create(SASRecConfig(dim=16), split.train)
    # A learning rate of zero never improves on the starting weights.
    config = TrainConfig(
        max_epochs=50, patience=2, min_steps=0, learning_rate=0.0, threads=1, progress=False
    )
    result = fit(model, split.train, split.valid, config)
    assert (len(result.epochs), result.best_epoch) == (2, 0)


def test_warm_start_keeps_trained_weights_adds_new_items_and_learns_only_new_data() -> None:
    world = ring_world()
    split = leave_one_out(world)
    model = _trained(SASRec.create(SASRecConfig(dim=32, dropout=0.1), world), world)
    later = 10_000.0
    # A new item "n" that now always follows "i0", seen only after `later`.
    new = [
        Interaction(f"v{u}", item, "view", later + 60 * step)
        for u in range(80)
        for step, item in enumerate(["i11", "i0", "n"])
    ]
    warm = model.warm_start(new)
    assert warm.vocab.items[: len(model.vocab.items)] == model.vocab.items
    assert warm.vocab.get("n") == len(model.vocab)
    assert isinstance(model, SASRec)
    assert isinstance(warm, SASRec)
    old_rows = model.net.items.weight
    assert torch.equal(warm.net.items.weight[: len(old_rows)], old_rows)
    batches = list(
        warm.batches(
            warm.sequences(world + new), batch_size=512, generator=torch.Generator(), since=later
        )
    )
    learned = torch.cat([targets[targets != PAD] for _, targets, _ in batches])
    assert len(learned) == 160
    assert set(learned.tolist()) == {
        warm.vocab.get("i0"),
        warm.vocab.get("n"),
    }
    # Early stopping watches the new behaviour: the old validation cases would keep the
    # starting weights.
    valid = [([("i11", later + 1), ("i0", later + 2)], "n")]
    fit(warm, split.train + new, valid, QUICK, since=later)
    assert warm.recommend(history=[("i11", 1.0), ("i0", 2.0)], k=1)[0].item_id == "n"


def test_build_refuses_unknown_kinds_fields_and_mismatched_warm_starts() -> None:
    world = ring_world(users=20)
    split = leave_one_out(world)
    with pytest.raises(ValueError, match="unknown model kind"):
        build("nope", split.train, split.valid, timed=True)
    with pytest.raises(ValueError, match="has no field colour"):
        build("sasrec", split.train, split.valid, timed=True, overrides={"colour": "red"})
    popular = build("popularity", split.train, split.valid, timed=True).model
    with pytest.raises(ValueError, match="cannot warm-start sasrec"):
        build("sasrec", split.train, split.valid, timed=True, init=popular)


def test_slirec_split_attention_layer_equals_the_concatenated_one() -> None:
    net = SLiRec.network(SLiRecConfig(dim=8), n_items=20)
    torch.manual_seed(3)
    states, q = torch.randn(2, 5, 8), torch.randn(2, 3, 8)
    h, qq = torch.broadcast_tensors(states[:, None], q[:, :, None])
    concatenated = net.attention(torch.cat([h, qq, h - qq, h * qq], dim=-1))[..., 0]
    assert torch.allclose(net._attention_logits(states, q), concatenated, atol=1e-5)


def test_training_stops_when_its_time_budget_is_spent() -> None:
    world = ring_world()
    split = leave_one_out(world)
    model = SASRec.create(SASRecConfig(dim=16), split.train)
    config = TrainConfig(max_epochs=50, patience=50, threads=1, progress=False, max_seconds=0.0)
    assert len(fit(model, split.train, split.valid, config).epochs) == 1


@pytest.mark.parametrize("kind", ["sasrec", "slirec"])
def test_shoppers_with_a_single_item_are_not_learned_from(kind: str) -> None:
    # Session logs hold many one-view sessions; leave-one-out leaves a three-view session one
    # item to train on. A batch of only such shoppers has nothing to predict.
    world = ring_world(users=60)
    single = [Interaction(f"s{u}", f"i{u % 12}", "view", 5000.0) for u in range(400)]
    split = leave_one_out(world)
    train = split.train + single
    config = TrainConfig(max_epochs=2, batch_size=16, threads=1, progress=False)
    model = build(kind, train, split.valid, train_config=config, timed=True).model
    assert isinstance(model, NeuralRecommender)
    data = Sequences.build(train, model.vocab)
    generator = torch.Generator().manual_seed(0)
    batches = list(model.batches(data, batch_size=16, generator=generator, since=None))
    assert batches
    assert all(batch[0].shape[1] > 0 for batch in batches)
