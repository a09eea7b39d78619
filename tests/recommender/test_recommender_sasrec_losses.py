"""SASRec's losses, its paper-protocol negatives and the SASRec paper's sampled evaluation, each
against a hand computation on a tiny case."""

from __future__ import annotations

import math
import random

import pytest
import torch

from recommender.data import leave_one_out
from recommender.evaluate import PAPER_USERS, evaluate, sampled_negatives
from recommender.popularity import Popularity, PopularityConfig
from recommender.sasrec import (
    SASRec,
    SASRecConfig,
    bce,
    sampled_softmax,
    touched_keys,
    untouched_negatives,
)
from recommender.sequences import Sequences, Vocabulary
from recommender.trainer import fit
from recommender.types import Interaction, TrainConfig
from tests.recommender.worlds import ring_world

QUICK = TrainConfig(
    max_epochs=30, patience=30, batch_size=64, learning_rate=5e-3, threads=1, progress=False
)


def test_sampled_softmax_is_cross_entropy_over_the_positive_and_the_drawn_items() -> None:
    table = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    states = torch.tensor([[2.0, 1.0]])
    # Positive 1 (logit 2), negatives 2 (logit 1) and 3 (logit 3).
    loss = sampled_softmax(states, table, torch.tensor([1]), torch.tensor([2, 3]))
    expected = -math.log(math.exp(2) / (math.exp(2) + math.exp(1) + math.exp(3)))
    assert math.isclose(loss.item(), expected, rel_tol=1e-6)


def test_sampled_softmax_masks_a_negative_that_is_the_positive_itself() -> None:
    table = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    states = torch.tensor([[2.0, 1.0], [2.0, 1.0]])
    drawn = torch.tensor([2, 3])
    # Row 0's positive 3 was also drawn: only item 2 competes with it. Row 1 (positive 1)
    # competes with both.
    loss = sampled_softmax(states, table, torch.tensor([3, 1]), drawn)
    row0 = -math.log(math.exp(3) / (math.exp(3) + math.exp(1)))
    row1 = -math.log(math.exp(2) / (math.exp(2) + math.exp(1) + math.exp(3)))
    assert math.isclose(loss.item(), (row0 + row1) / 2, rel_tol=1e-6)


def test_bce_is_the_papers_binary_cross_entropy() -> None:
    table = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    states = torch.tensor([[2.0, -1.0]])
    loss = bce(states, table, torch.tensor([1]), torch.tensor([2]))
    sigmoid = 1 / (1 + math.exp(-2.0))  # positive logit 2, negative logit -1
    expected = -math.log(sigmoid) - math.log(1 - 1 / (1 + math.exp(1.0)))
    assert math.isclose(loss.item(), expected, rel_tol=1e-6)


def test_untouched_negatives_never_draw_an_item_the_shopper_touched() -> None:
    # 9 items; u0 touched 1-7 (only 8 is left to it), u1 touched 1 only.
    vocab = Vocabulary(tuple(f"i{n}" for n in range(1, 10)))
    seen = [Interaction("u0", f"i{n}", "view", float(n)) for n in range(1, 8)]
    seen += [Interaction("u1", "i1", "view", 0.0)]
    data = Sequences.build(seen, vocab)
    n_items = len(vocab)
    touched = touched_keys(data, n_items)
    drawn = untouched_negatives(
        touched, n_items, torch.tensor([0, 1]), (2, 500), torch.Generator().manual_seed(0)
    )
    assert set(drawn[0].tolist()) == {8, 9}
    assert set(drawn[1].tolist()) == set(range(2, 10))  # uniform over the rest: all appear


def test_config_refuses_unknown_losses_and_inits() -> None:
    with pytest.raises(ValueError, match="loss must be one of"):
        SASRecConfig(loss="hinge")
    with pytest.raises(ValueError, match="init must be one of"):
        SASRecConfig(init="zeros")


def test_xavier_init_sets_every_matrix_as_the_papers_port_does() -> None:
    model = SASRec.create(
        SASRecConfig(dim=50, init="xavier"),
        [Interaction("u", f"i{n}", "view", float(n)) for n in range(2000)],
    )
    table = model.net.items.weight.detach()[1:]
    expected = math.sqrt(2.0 / (2001 + 50))  # xavier_normal_ of a 2001 x 50 table
    assert math.isclose(float(table.std()), expected, rel_tol=0.05)
    assert float(model.net.items.weight.detach()[0].abs().sum()) == 0.0  # padding stays zero


@pytest.mark.parametrize("loss", ["sampled", "bce"])
def test_sasrec_learns_the_ring_with_each_loss(loss: str) -> None:
    world = ring_world()
    split = leave_one_out(world)
    config = SASRecConfig(dim=32, dropout=0.1, loss=loss, negatives=4, init="xavier")
    model = SASRec.create(config, split.train)
    fit(model, split.train, split.valid, QUICK)
    assert evaluate(model, split.cases, k=1).hr == 1.0


def test_paper_negatives_are_drawn_with_replacement_and_exclude_only_the_history() -> None:
    rng = random.Random(0)
    drawn = sampled_negatives(rng, ["h", "t", "n"], n=200, seen={"h"}, target="t", sampler="paper")
    assert len(drawn) == 200
    assert set(drawn) == {"t", "n"}  # never the history; the target may be drawn
    distinct = sampled_negatives(
        rng, ["h", "t", "n", "m"], n=2, seen={"h"}, target="t", sampler="distinct"
    )
    assert distinct == ["m", "n"]


def test_paper_protocol_ranks_a_sample_of_10000_shoppers() -> None:
    scores = {f"i{n}": float(n) for n in range(20)}
    model = Popularity.from_scores(config=PopularityConfig(), scores=scores)
    cases = [([("i0", 0.0)], "i19")] * (PAPER_USERS + 50)
    catalogue = sorted(scores)
    paper = evaluate(model, cases, k=1, negatives=5, catalogue=catalogue, sampler="paper")
    assert (paper.cases, paper.sampled_cases) == (PAPER_USERS + 50, PAPER_USERS)
    assert paper.hr == 1.0  # full ranking covers every case
    # i19 outscores every other item, but the paper's draws (5 from the 19 items outside the
    # history) pick it again with probability 1 - (18/19)^5; that tie counts against it.
    assert paper.sampled_hr is not None
    assert abs(paper.sampled_hr - (18 / 19) ** 5) < 0.02
    distinct = evaluate(model, cases[:100], negatives=5, catalogue=catalogue)
    assert distinct.sampled_cases == 100
    with pytest.raises(ValueError, match="sampler must be one of"):
        evaluate(model, cases[:1], negatives=1, catalogue=catalogue, sampler="both")
