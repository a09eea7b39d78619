"""SLi-Rec's fast scoring against the model written out the slow way.

The network folds every input-only term of the time-aware LSTM ahead of its loop, splits the
target-aware attention's first layer by part, and scores candidates in cached chunks. The
reference below does none of that: one shopper, one step, one candidate at a time, straight
from the equations in the module's docstring. On random weights the two must agree.
"""

from __future__ import annotations

import math

import torch

from recommender.sequences import PAD
from recommender.slirec import _NUMPY_BATCH, SLiRecConfig, SLiRecNet

CONFIG = SLiRecConfig(dim=8, attention_layers=(12, 6), head_layers=(10, 5), dropout=0.0)
N_ITEMS = 30


def _minutes(seconds: float) -> float:
    return math.log1p(max(seconds, 0.0) / 60.0)


def _lstm_reference(
    net: SLiRecNet, x: torch.Tensor, ts: list[float], now: float
) -> list[torch.Tensor]:
    """Time4LSTM over one shopper's real steps, x (n, d): the paper's cell, step by step."""
    lstm, d = net.lstm, x.shape[1]
    h, c = torch.zeros(d), torch.zeros(d)
    states = []
    for step, x_t in enumerate(x):
        since_last = _minutes(ts[step] - ts[step - 1]) if step else 0.0
        t_last = torch.tanh(lstm.time_last(torch.tensor([since_last])))
        t_now = torch.tanh(lstm.time_now(torch.tensor([_minutes(now - ts[step])])))
        keep = torch.sigmoid(lstm.t1_x(x_t) + lstm.t1_t(t_last))
        take = torch.sigmoid(lstm.t2_x(x_t) + lstm.t2_t(t_now))
        i, j, f, o = (lstm.x_gates(x_t) + lstm.h_gates(h)).split(d)
        o = o + lstm.o_t(torch.cat([t_last, t_now]))
        c = torch.sigmoid(f + 1.0) * c * keep + torch.sigmoid(i) * take * torch.tanh(j)
        h = torch.sigmoid(o) * torch.tanh(c)
        states.append(h)
    return states


def _reference_score(
    net: SLiRecNet, history: list[int], ts: list[float], now: float, candidate: int
) -> torch.Tensor:
    x = net.items(torch.tensor(history))  # (n, d)
    weights = torch.softmax(net.long_w(x) @ net.long_q, dim=0)
    long = (weights[:, None] * x).sum(dim=0)
    states = torch.stack(_lstm_reference(net, x, ts, now))  # (n, d)
    target = net.items(torch.tensor(candidate))
    q = net.query(target).expand_as(states)
    logits = net.attention(torch.cat([states, q, states - q, states * q], dim=-1))[:, 0]
    short = torch.softmax(logits, dim=0) @ states
    gap = torch.tensor([_minutes(now - ts[-1])])
    alpha = torch.sigmoid(net.fusion(torch.cat([target, long, short, gap])))
    shopper = alpha * long + (1 - alpha) * short
    return net.head(torch.cat([shopper, target]))[0]


def _world(seed: int) -> tuple[SLiRecNet, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random weights, five left-padded histories of different lengths (one fills the window),
    minutes to days between actions, and 23 candidates each."""
    torch.manual_seed(seed)
    net = SLiRecNet(CONFIG, N_ITEMS)
    for parameter in net.parameters():  # weights large enough for every gate to matter
        torch.nn.init.normal_(parameter, std=0.5)
    lengths, width = [7, 1, 3, 6, 2], 7
    items = torch.zeros(len(lengths), width, dtype=torch.int64)
    ts = torch.zeros(len(lengths), width, dtype=torch.float64)
    for row, n in enumerate(lengths):
        items[row, width - n :] = torch.randint(1, N_ITEMS, (n,))
        gaps = torch.exp(torch.rand(n, dtype=torch.float64) * math.log(86_400.0 * 3))
        ts[row, width - n :] = 1.7e9 + torch.cumsum(gaps, dim=0)
    now = ts[:, -1] + torch.rand(len(lengths), dtype=torch.float64) * 7200
    candidates = torch.randint(1, N_ITEMS, (len(lengths), 23))
    return net, items, ts, now, candidates


def _reference(
    net: SLiRecNet,
    items: torch.Tensor,
    ts: torch.Tensor,
    now: torch.Tensor,
    candidates: torch.Tensor,
) -> torch.Tensor:
    rows = []
    for row in range(len(items)):
        real = items[row] != PAD
        history, times = items[row][real].tolist(), ts[row][real].tolist()
        rows.append(
            torch.stack(
                [
                    _reference_score(net, history, times, float(now[row]), int(c))
                    for c in candidates[row]
                ]
            )
        )
    return torch.stack(rows)


def test_slirec_scores_equal_the_model_computed_step_by_step() -> None:
    net, items, ts, now, candidates = _world(seed=0)
    net.eval()
    with torch.no_grad():
        fast = net.score(net.encode(items, ts, now), candidates)
        slow = _reference(net, items, ts, now, candidates)
    assert fast.shape == (5, 23)
    assert torch.allclose(fast, slow, rtol=1e-4, atol=1e-5), (fast - slow).abs().max()


def test_slirec_gradients_equal_the_step_by_step_model() -> None:
    """Training takes the same path with autograd on (no shared buffers, ReLUs in place)."""
    net, items, ts, now, candidates = _world(seed=1)
    net.train()  # dropout is 0: training mode only switches the buffers off
    net.score(net.encode(items, ts, now), candidates).square().sum().backward()
    fast = {name: p.grad.clone() for name, p in net.named_parameters() if p.grad is not None}
    net.zero_grad()
    _reference(net, items, ts, now, candidates).square().sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None, name
        assert torch.allclose(fast[name], p.grad, rtol=1e-3, atol=1e-4), name


def test_slirec_scores_a_shopper_the_same_alone_or_in_a_batch() -> None:
    """Padding changes nothing: a shopper's scores do not depend on who shares the batch
    (the first action's time since the previous one is 0 whatever padding precedes it). Alone,
    the LSTM's loop runs in NumPy; in the batch of five, in PyTorch: the two agree."""
    net, items, ts, now, candidates = _world(seed=2)
    net.eval()
    assert 1 <= _NUMPY_BATCH < len(items)
    with torch.no_grad():
        batch = net.score(net.encode(items, ts, now), candidates)
        for row in range(len(items)):
            real = items[row] != PAD
            alone = net.score(
                net.encode(items[row : row + 1, real], ts[row : row + 1, real], now[row : row + 1]),
                candidates[row : row + 1],
            )
            assert torch.allclose(alone[0], batch[row], rtol=1e-5, atol=1e-6), row


def test_slirec_chunked_attention_matches_one_pass_over_many_candidates() -> None:
    """More candidates than one chunk holds: chunks split at the right columns."""
    torch.manual_seed(3)
    net = SLiRecNet(SLiRecConfig(dim=8), n_items=20).eval()
    states, q = torch.randn(3, 50, 8), torch.randn(3, 40, 8)
    h, qq = torch.broadcast_tensors(states[:, None], q[:, :, None])
    with torch.no_grad():
        concatenated = net.attention(torch.cat([h, qq, h - qq, h * qq], dim=-1))[..., 0]
        assert torch.allclose(net._attention_logits(states, q), concatenated, atol=1e-5)
