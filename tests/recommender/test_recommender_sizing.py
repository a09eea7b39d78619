"""A loaded model's weight for the worker's cache: what it holds in memory, each thing once."""

from __future__ import annotations

import sys

import torch

from recommender.sizing import resident_bytes


def test_a_table_counts_its_objects_and_a_tensor_its_storage_once() -> None:
    names = [f"product-{n}" for n in range(1000)]
    table = {"names": names, "same": names}  # the list referenced twice is counted once
    expected = (
        sys.getsizeof(table)
        + sys.getsizeof("names")
        + sys.getsizeof("same")
        + sys.getsizeof(names)
        + sum(sys.getsizeof(n) for n in names)
    )
    assert resident_bytes(table) == expected

    weights = torch.zeros(1000, 64)
    view = weights[:10]  # shares the storage: its bytes are not counted again
    holder = [weights, view]
    assert resident_bytes(holder) == (
        sys.getsizeof(holder) + sys.getsizeof(weights) + sys.getsizeof(view) + 1000 * 64 * 4
    )


def test_an_embedding_table_weighs_about_its_bytes() -> None:
    net = torch.nn.Embedding(25_000, 64)
    assert 25_000 * 64 * 4 <= resident_bytes(net) < 25_000 * 64 * 4 + 200_000
