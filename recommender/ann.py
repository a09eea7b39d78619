"""Approximate nearest neighbours by cosine: random-hyperplane LSH (SimHash), numpy only.

Each of `tables` hash tables draws `bits` random hyperplanes; a vector's code in a table is the
side of each plane it falls on, so two vectors share a code with probability (1 - angle/pi)^bits.
A query takes the rows sharing its code in any table (and, when that gives too few, the rows one
bit away), then ranks those candidates exactly by cosine. With too few candidates even then it
ranks every row: the answer is always as long as it can be.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Multi-probe when the exact buckets hold fewer than this many candidates per wanted result.
_CANDIDATES_PER_RESULT = 20


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    # A zero vector stays zero: cosine 0 with everything rather than NaN.
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _codes(vectors: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """(n, d) vectors, (T, B, d) planes -> (T, n) int64 codes, bit b set when above plane b."""
    above = np.einsum("tbd,nd->tnb", planes, vectors) > 0  # (T, n, B)
    return above.astype(np.int64) @ (1 << np.arange(planes.shape[1], dtype=np.int64))


def _keys(codes: np.ndarray, bits: int) -> np.ndarray:
    """(T, m) codes -> (T, m) keys unique across tables: table t's codes shifted by t * 2^bits."""
    return codes + (np.arange(codes.shape[0], dtype=np.int64) << bits)[:, None]


@dataclass(frozen=True)
class LSHIndex:
    """Unit-length copies of the vectors plus every (table, code) key, sorted, with its row.

    A key is table * 2^bits + code, so one sorted array serves every table's buckets.
    """

    vectors: np.ndarray = field(repr=False)  # (n, d) float32, unit rows (or zero)
    planes: np.ndarray = field(repr=False)  # (tables, bits, d) float32
    keys: np.ndarray = field(repr=False)  # (tables * n,) int64, sorted
    rows: np.ndarray = field(repr=False)  # (tables * n,) int64, the row of each key

    @classmethod
    def build(
        cls, vectors: np.ndarray, *, tables: int = 8, bits: int = 12, seed: int = 0
    ) -> LSHIndex:
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be (n, d), got shape {vectors.shape}")
        if not 1 <= bits <= 40 or tables < 1:
            raise ValueError(f"need tables >= 1 and 1 <= bits <= 40, got {tables}, {bits}")
        rng = np.random.default_rng(seed)
        planes = rng.standard_normal((tables, bits, vectors.shape[1])).astype(np.float32)
        return cls.from_planes(vectors, planes)

    @classmethod
    def from_planes(cls, vectors: np.ndarray, planes: np.ndarray) -> LSHIndex:
        """Index `vectors` with given hyperplanes (a saved index: only the buckets are rebuilt)."""
        return cls._from_unit(_normalised(vectors), planes)

    @classmethod
    def _from_unit(cls, unit: np.ndarray, planes: np.ndarray) -> LSHIndex:
        keys = _keys(_codes(unit, planes), planes.shape[1]).ravel()  # (T * n,)
        order = np.argsort(keys, kind="stable")
        rows = np.tile(np.arange(len(unit), dtype=np.int64), planes.shape[0])
        return cls(
            vectors=unit, planes=planes.astype(np.float32), keys=keys[order], rows=rows[order]
        )

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def candidates(self, vector: np.ndarray, *, flip: bool = False) -> np.ndarray:
        """Rows sharing the query's bucket in some table, or with `flip` the rows in the
        buckets one bit away from it instead (multi-probe). Unsorted, with repeats."""
        bits = self.planes.shape[1]
        codes = _codes(_normalised(vector[None, :]), self.planes)  # (T, 1)
        if flip:
            codes = codes ^ (1 << np.arange(bits, dtype=np.int64))[None, :]  # (T, bits)
        wanted = _keys(codes, bits).ravel()
        lo = np.searchsorted(self.keys, wanted, side="left")
        size = np.searchsorted(self.keys, wanted, side="right") - lo
        # Every position lo[j] .. lo[j] + size[j] - 1 without a Python loop over buckets.
        starts = np.repeat(lo - np.cumsum(size) + size, size)
        return self.rows[starts + np.arange(int(size.sum()))]

    def query(
        self, vector: np.ndarray, k: int, exclude_rows: Collection[int] = ()
    ) -> list[tuple[int, float]]:
        """The (row, cosine) of about the `k` rows most similar to `vector`, best first (ties by
        row), leaving out `exclude_rows`."""
        if k <= 0:
            return []
        excluded = np.fromiter(exclude_rows, dtype=np.int64, count=len(exclude_rows))
        wanted = np.zeros(len(self), dtype=bool)
        wanted[self.candidates(vector)] = True
        wanted[excluded] = False
        if wanted.sum() < k * _CANDIDATES_PER_RESULT:
            wanted[self.candidates(vector, flip=True)] = True
            wanted[excluded] = False
        if wanted.sum() < k:  # too few even after probing: rank every row
            return self.exact(vector, k, exclude_rows)
        return self._ranked(_normalised(vector), np.flatnonzero(wanted), k)

    def exact(
        self, vector: np.ndarray, k: int, exclude_rows: Collection[int] = ()
    ) -> list[tuple[int, float]]:
        """Brute force: what `query` approximates."""
        if k <= 0:
            return []
        cosine = self.vectors @ _normalised(vector)  # (n,): no copy of the rows, unlike _ranked
        wanted = np.ones(len(self), dtype=bool)
        wanted[np.fromiter(exclude_rows, dtype=np.int64, count=len(exclude_rows))] = False
        rows = np.flatnonzero(wanted)
        return self._top(rows, cosine[rows], k)

    def _ranked(self, unit: np.ndarray, rows: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self._top(rows, self.vectors[rows] @ unit, k)

    @staticmethod
    def _top(rows: np.ndarray, cosine: np.ndarray, k: int) -> list[tuple[int, float]]:
        if len(rows) > k:  # keep the top k (ties at the boundary resolved by lexsort below)
            keep = np.argpartition(-cosine, k - 1)[:k]
            boundary = cosine[keep].min()
            keep = np.flatnonzero(cosine >= boundary)
            rows, cosine = rows[keep], cosine[keep]
        best = np.lexsort((rows, -cosine))[:k]
        return [(int(r), float(c)) for r, c in zip(rows[best], cosine[best], strict=True)]

    def save(self, path: Path) -> None:
        """Write vectors.npy and planes.npy into the directory `path`."""
        path.mkdir(parents=True, exist_ok=True)
        np.save(path / "vectors.npy", self.vectors, allow_pickle=False)
        np.save(path / "planes.npy", self.planes, allow_pickle=False)

    @classmethod
    def load(cls, path: Path) -> LSHIndex:
        vectors = np.load(path / "vectors.npy", allow_pickle=False)
        planes = np.load(path / "planes.npy", allow_pickle=False)
        if planes.ndim != 3 or vectors.ndim != 2 or planes.shape[2] != vectors.shape[1]:
            raise ValueError(f"{path}: vectors {vectors.shape} and planes {planes.shape} differ")
        # Saved already unit-length: normalising again could move the last bit of a cosine.
        return cls._from_unit(vectors.astype(np.float32), planes)
