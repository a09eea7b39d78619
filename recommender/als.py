"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008), served item to item through an LSH index.

Every (shopper, item) pair has preference 1 if they interacted and 0 otherwise, trusted with
confidence c = 1 + alpha * r, where r is the pair's weighted interaction count (0 when they
never met). ALS alternates exact ridge solves for shopper and item factors; each solve needs only
the observed pairs, since Y^T C_u Y = Y^T Y + sum over the shopper's items of (c - 1) y y^T.

Serving never looks a shopper up: their recent items are folded into a vector, and the items
nearest it by cosine come from an `LSHIndex` over the item factors, so a model trained
yesterday still serves a shopper who arrived today.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from recommender.ann import LSHIndex
from recommender.popularity import Popularity, PopularityConfig
from recommender.types import Interaction, Scored

_FORMAT_VERSION = 1
# Popularity fills rank below every cosine; unknown items score there too.
_BELOW_COSINE = -2.0
# Floats in each padded (rows, longest row, f) or (rows, f, f) tensor of a batched solve: 128 MB,
# so the few such tensors alive at once stay well under 1 GB.
_CHUNK_FLOATS = 1 << 25


def _weights() -> dict[str, float]:
    return {"view": 1.0, "cart": 3.0, "purchase": 5.0}


@dataclass(frozen=True)
class ALSConfig:
    # Tuned on Amazon Beauty (leave-one-out, full ranking): alpha 50 beat 5 and 20, and a
    # regularisation of 10 beat 0.05 and 1; 128 factors add a little HR at 3-6x the training time.
    factors: int = 64
    regularization: float = 10.0
    alpha: float = 50.0  # confidence per unit of weighted count
    iterations: int = 12
    seed: int = 0
    weights: dict[str, float] = field(default_factory=_weights)
    lsh_tables: int = 16
    lsh_bits: int = 12
    # Smaller catalogues are searched exhaustively: on Beauty's 12k items a scan of every item
    # took 0.2-0.35 ms, while LSH took 0.25-0.35 ms and found only 50-70% of the true top 10 (ALS
    # neighbours sit at cosines of 0.5-0.7, which random hyperplanes separate easily).
    lsh_min_items: int = 100_000
    recent: int = 10  # the shopper's last items folded into their vector

    def __post_init__(self) -> None:
        if self.factors < 1 or self.iterations < 0 or self.recent < 1:
            raise ValueError("factors and recent must be >= 1, iterations >= 0")
        if not (self.regularization > 0 and self.alpha >= 0):
            raise ValueError("regularization must be > 0 and alpha >= 0")


@dataclass(frozen=True, slots=True)
class _Rows:
    """A sparse matrix by rows (CSR): row r's columns are columns[start[r]:start[r + 1]]."""

    start: torch.Tensor  # (rows + 1,) int64
    columns: torch.Tensor  # (nnz,) int64
    values: torch.Tensor  # (nnz,) float32, the weighted counts r


def _csr(rows: np.ndarray, columns: np.ndarray, values: np.ndarray, n_rows: int) -> _Rows:
    order = np.lexsort((columns, rows))
    start = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=start[1:])
    return _Rows(
        start=torch.from_numpy(start),
        columns=torch.from_numpy(columns[order].astype(np.int64)),
        values=torch.from_numpy(values[order].astype(np.float32)),
    )


def _batches(sorted_length: np.ndarray, factors: int) -> list[tuple[int, int]]:
    """Split rows sorted by length into [lo, hi) batches whose padded tensors stay in budget."""
    out, lo, n = [], 0, len(sorted_length)
    while lo < n:
        # Rows at most twice as long as the batch's first, so padding is under half the batch;
        # the last row is the longest: binary-search the most rows that fit (at least one).
        same = int(np.searchsorted(sorted_length, 2 * max(int(sorted_length[lo]), 1), "right"))
        fewest, most = 1, same - lo
        while fewest < most:
            size = (fewest + most + 1) // 2
            if _fits(int(sorted_length[lo + size - 1]), size, factors):
                fewest = size
            else:
                most = size - 1
        out.append((lo, lo + fewest))
        lo += fewest
    return out


def _fits(longest: int, rows: int, factors: int) -> bool:
    return rows * max(longest, factors) * factors <= _CHUNK_FLOATS


def als_solve(fixed: torch.Tensor, rows: _Rows, *, alpha: float, reg: float) -> torch.Tensor:
    """One half-step of ALS: each row's factors given the other side's `fixed` (m, f).

    x_r = (Y^T Y + reg I + sum_i (c_ri - 1) y_i y_i^T)^-1 sum_i c_ri y_i, over row r's observed
    columns i. Rows are solved in batches of similar length, padded with zero confidence.
    """
    n, f = len(rows.start) - 1, fixed.shape[1]
    gram = fixed.T @ fixed + reg * torch.eye(f)  # (f, f)
    length = rows.start[1:] - rows.start[:-1]  # (n,)
    by_length = torch.argsort(length, stable=True)
    out = torch.zeros(n, f)
    for lo, hi in _batches(length[by_length].numpy(), f):
        batch = by_length[lo:hi]  # (B,)
        offset = torch.arange(int(length[batch].max()))  # (L,)
        present = offset[None, :] < length[batch][:, None]  # (B, L)
        where = torch.where(present, rows.start[batch][:, None] + offset[None, :], 0)
        counts = torch.where(present, rows.values[where], 0.0)  # (B, L); padding counts 0
        y = fixed[rows.columns[where]]  # (B, L, f)
        weighted = (y * (alpha * counts)[..., None]).transpose(1, 2)  # (B, f, L)
        system = torch.baddbmm(gram.expand(len(batch), f, f), weighted, y)  # (B, f, f)
        confidence = torch.where(present, 1.0 + alpha * counts, 0.0)  # (B, L)
        target = (y * confidence[..., None]).sum(1)  # (B, f)
        out[batch] = torch.linalg.solve(system, target)
    return out


def als_fit(interactions: Iterable[Interaction], config: ALSConfig) -> tuple[list[str], np.ndarray]:
    """The items seen (sorted) and their factors, (items, factors) float32."""
    counts: dict[tuple[str, str], float] = defaultdict(float)
    for it in interactions:
        weight = config.weights.get(it.interaction, 0.0)
        if weight > 0:
            counts[(it.user_id, it.item_id)] += weight
    users = sorted({u for u, _ in counts})
    items = sorted({i for _, i in counts})
    user_row = {u: r for r, u in enumerate(users)}
    item_row = {i: r for r, i in enumerate(items)}
    u = np.fromiter((user_row[u] for u, _ in counts), dtype=np.int64, count=len(counts))
    i = np.fromiter((item_row[i] for _, i in counts), dtype=np.int64, count=len(counts))
    r = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    by_user, by_item = _csr(u, i, r, len(users)), _csr(i, u, r, len(items))
    generator = torch.Generator().manual_seed(config.seed)
    y = torch.randn(len(items), config.factors, generator=generator) * 0.01  # (items, f)
    for _ in range(config.iterations):
        x = als_solve(y, by_user, alpha=config.alpha, reg=config.regularization)  # (users, f)
        y = als_solve(x, by_item, alpha=config.alpha, reg=config.regularization)
    return items, y.numpy().astype(np.float32)


@dataclass(frozen=True)
class ALS:
    """A servable "you may also like" model: the items nearest (by cosine of ALS factors) the
    shopper's recent items, topped up by popularity so the list is always full."""

    kind: ClassVar[str] = "als"

    config: ALSConfig
    items: tuple[str, ...] = field(repr=False)
    item_factors: np.ndarray = field(repr=False)  # (items, f) float32
    index: LSHIndex = field(repr=False)  # over the item factors, row i = items[i]
    popular: Popularity = field(repr=False)
    row: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.item_factors.shape != (len(self.items), self.config.factors):
            raise ValueError(f"item_factors {self.item_factors.shape} do not match the items")
        object.__setattr__(self, "row", {item: r for r, item in enumerate(self.items)})

    @classmethod
    def fit(cls, interactions: Iterable[Interaction], config: ALSConfig) -> ALS:
        seen = list(interactions)
        items, factors = als_fit(seen, config)
        return cls.from_factors(
            config=config,
            items=items,
            item_factors=factors,
            popular=Popularity.fit(seen, PopularityConfig(weights=dict(config.weights))),
        )

    @classmethod
    def from_factors(
        cls,
        *,
        config: ALSConfig,
        items: Sequence[str],
        item_factors: np.ndarray,
        planes: np.ndarray | None = None,
        popular: Popularity,
    ) -> ALS:
        """Index the factors with `planes` (a saved model's) or with new ones from the seed."""
        if planes is None:
            index = LSHIndex.build(
                item_factors, tables=config.lsh_tables, bits=config.lsh_bits, seed=config.seed
            )
        else:
            index = LSHIndex.from_planes(item_factors, planes)
        return cls(
            config=config,
            items=tuple(items),
            item_factors=item_factors,
            index=index,
            popular=popular,
        )

    def _nearest(self, vector: np.ndarray, k: int, skip: set[int]) -> list[Scored]:
        search = (
            self.index.query if len(self.items) >= self.config.lsh_min_items else self.index.exact
        )
        return [Scored(item_id=self.items[r], score=c) for r, c in search(vector, k, skip)]

    def _recent_rows(self, history: Sequence[tuple[str, float]]) -> list[int]:
        """Rows of the last `recent` known items, the most recent last."""
        ordered = [item for item, _ in sorted(history, key=lambda h: h[1])]
        return [self.row[i] for i in ordered[-self.config.recent :] if i in self.row]

    def shopper_vector(self, history: Sequence[tuple[str, float]]) -> np.ndarray:
        """The shopper folded in: a recency-weighted sum of their recent items' unit factors
        (zero when none is known)."""
        return _fold_in(self.index.vectors, self._recent_rows(history))

    def recommend(
        self, *, history: Sequence[tuple[str, float]], k: int, exclude: Collection[str] = ()
    ) -> list[Scored]:
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        taken = set(exclude) | {item for item, _ in history}
        vector = self.shopper_vector(history)
        picked: list[Scored] = []
        if k and vector.any():
            picked = self._nearest(vector, k, {self.row[i] for i in taken if i in self.row})
        return self.popular.top_up(picked, k=k, exclude=taken, score=_BELOW_COSINE)

    def neighbours(self, item_id: str, k: int) -> list[Scored]:
        """The `k` items most similar to `item_id` by cosine (approximate from `lsh_min_items`
        items on); [] if the item is unknown."""
        row = self.row.get(item_id)
        if row is None:
            return []
        return self._nearest(self.index.vectors[row], k, {row})

    def score(self, *, history: Sequence[tuple[str, float]], items: Sequence[str]) -> list[float]:
        """Cosine of the shopper's vector with each item; unknown items score below them all."""
        vector = self.shopper_vector(history)
        unit = vector / (np.linalg.norm(vector) or 1.0)
        rows = [self.row.get(item) for item in items]
        known = np.array([r for r in rows if r is not None], dtype=np.int64)
        cosine = iter((self.index.vectors[known] @ unit).tolist())
        return [_BELOW_COSINE if r is None else next(cosine) for r in rows]

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        config = {"kind": self.kind, "format_version": _FORMAT_VERSION, **asdict(self.config)}
        (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
        (path / "items.json").write_text(json.dumps(list(self.items)), encoding="utf-8")
        np.save(path / "item_factors.npy", self.item_factors, allow_pickle=False)
        np.save(path / "lsh_planes.npy", self.index.planes, allow_pickle=False)
        self.popular.save(path / "popularity")

    @classmethod
    def load(cls, path: Path) -> ALS:
        raw = json.loads((path / "config.json").read_text(encoding="utf-8"))
        if raw.pop("kind", None) != cls.kind or raw.pop("format_version", None) != _FORMAT_VERSION:
            raise ValueError(f"{path} does not hold an als model of format {_FORMAT_VERSION}")
        try:
            config = ALSConfig(**raw)
        except TypeError as error:  # a key this version does not know, or one missing
            raise ValueError(f"{path}/config.json: {error}") from None
        return cls.from_factors(
            config=config,
            items=[str(i) for i in json.loads((path / "items.json").read_text(encoding="utf-8"))],
            item_factors=np.load(path / "item_factors.npy", allow_pickle=False),
            planes=np.load(path / "lsh_planes.npy", allow_pickle=False),
            popular=Popularity.load(path / "popularity"),
        )


def _fold_in(unit_factors: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """Recency-weighted sum of the rows' unit factors: the last row weighs 1, the one before
    1/4, then 1/9... On Beauty (64 factors) this tied 0.5^rank and beat 1/rank, a plain mean,
    the last item alone and the exact least-squares fold-in, ranked by cosine or dot product."""
    if not rows:
        return np.zeros(unit_factors.shape[1], dtype=np.float32)
    weights = 1.0 / np.arange(len(rows), 0, -1, dtype=np.float32) ** 2  # (R,) oldest first
    return weights @ unit_factors[np.asarray(rows)]
