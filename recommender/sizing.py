"""How much memory a loaded model holds: the bound of a worker's model cache is in these bytes.

A model's size on disk is a poor measure of what it costs loaded: a neural model's weights are
about their file's size, but a table read from JSON (co-visitation neighbours, popularity
counts, a vocabulary) becomes Python objects several times larger than its file (measured:
25,000 products' popularity, 0.93 MB on disk, 3.7 MB loaded). So a loaded model is weighed by
walking everything it references: each object once, by ``sys.getsizeof``, plus each tensor's
storage once (its bytes live outside the Python object). Classes, functions and modules are
shared by every model and are not counted.
"""

from __future__ import annotations

import gc
import sys
import types
from typing import Any

import torch

_SHARED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType)


def resident_bytes(obj: Any) -> int:
    """Bytes held by ``obj`` and everything it references (see the module's docstring)."""
    seen: set[int] = set()
    storages: set[int] = set()
    total = 0
    stack = [obj]
    while stack:
        current = stack.pop()
        if id(current) in seen or isinstance(current, _SHARED):
            continue
        seen.add(id(current))
        total += sys.getsizeof(current)
        if isinstance(current, torch.Tensor):
            storage = current.untyped_storage()
            if storage.data_ptr() not in storages:
                storages.add(storage.data_ptr())
                total += storage.nbytes()
            continue
        if isinstance(current, dict):
            # The collector does not visit a dict's str keys (it cannot hold a cycle through
            # them), but a table keyed by product id owns them.
            stack.extend(current.keys())
        stack.extend(gc.get_referents(current))
    return total
