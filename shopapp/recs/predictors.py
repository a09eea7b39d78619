"""The serving models of a worker process: loaded from the MLflow registry into a bounded LRU.

A worker asks for a predictor on every inference. For each (namespace, kind, alias) the registry
is consulted at most every ALIAS_CHECK_S seconds, and the model is reloaded only when the alias
points at a new version. Entries are weighed by the model's size loaded in memory, which the
registry measured when it registered the version (recommender/sizing.py: every object the model
references, and its tensors' bytes); a JSON table loaded as Python objects takes several times
its file (a co-visitation table of 25,000 products: 11.7 MB on disk, 60 MB loaded). Past
SLIPSTREAM_PREDICTOR_CACHE_MB the least recently used entries are evicted, never the one just
loaded.

A load that fails (a file that no longer matches its hash, an unreachable store) is logged and
the version loaded before keeps serving; a version refused for its hash is not tried again.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict

from django.conf import settings

from recommender import registry
from recommender.predictor import Predictor

logger = logging.getLogger(__name__)

ALIAS_CHECK_S = 10.0

_Key = tuple[str, str | None, str, str]  # tracking URI, namespace, kind, alias


@dataclasses.dataclass(frozen=True, slots=True)
class CachedPredictor:
    namespace: str | None
    kind: str
    alias: str
    version: str | None  # None: nothing registered under the alias at the last check
    nbytes: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Entry:
    predictor: Predictor | None
    nbytes: int
    checked_at: float
    refused: str | None = None  # a version whose files failed their hash check


class _LRU:
    """Entries oldest use first, with their total weight kept as they come and go."""

    def __init__(self) -> None:
        self.entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self.nbytes = 0

    def put(self, key: _Key, entry: _Entry) -> None:
        old = self.entries.pop(key, None)
        self.nbytes += entry.nbytes - (old.nbytes if old else 0)
        self.entries[key] = entry

    def evict(self, *, bound: int, keep: _Key) -> None:
        for key in list(self.entries):
            if self.nbytes <= bound:
                return
            if key != keep:
                self.nbytes -= self.entries.pop(key).nbytes


_cache = _LRU()
# Workers are prefork processes with one thread each; the lock is for threaded callers (the
# demo, tests), and makes a second caller of a key wait for the first one's load, not repeat it.
_lock = threading.Lock()


def predictor_get(*, namespace: str | None = None, kind: str, alias: str) -> Predictor | None:
    """The model ``kind@alias`` of ``namespace`` (None: the global ``slipstream-<kind>``), or
    None when none is registered under that alias, or none could be loaded yet."""
    key = (settings.MLFLOW_TRACKING_URI, namespace, kind, alias)
    now = time.monotonic()
    with _lock:
        entry = _cache.entries.get(key)
        if entry is not None and now - entry.checked_at < ALIAS_CHECK_S:
            _cache.entries.move_to_end(key)
            return entry.predictor
        entry = _refreshed(key, entry, now)
        _cache.put(key, entry)
        _cache.evict(bound=int(settings.PREDICTOR_CACHE_MB * 2**20), keep=key)
        return entry.predictor


def predictors_cached() -> list[CachedPredictor]:
    """What this process holds, least recently used first."""
    with _lock:
        return [
            CachedPredictor(
                namespace=namespace,
                kind=kind,
                alias=alias,
                version=entry.predictor.version if entry.predictor else None,
                nbytes=entry.nbytes,
            )
            for (_, namespace, kind, alias), entry in _cache.entries.items()
        ]


def _refreshed(key: _Key, entry: _Entry | None, now: float) -> _Entry:
    uri, namespace, kind, alias = key
    kept = _Entry(
        predictor=entry.predictor if entry else None,
        nbytes=entry.nbytes if entry else 0,
        checked_at=now,
        refused=entry.refused if entry else None,
    )
    try:
        version = registry.alias_version(
            kind=kind, alias=alias, namespace=namespace, tracking_uri=uri
        )
        if version is None:
            return _Entry(predictor=None, nbytes=0, checked_at=now)
        if version == kept.refused or (kept.predictor and kept.predictor.version == version):
            return kept
        loaded = registry.load_sized(kind=kind, alias=alias, namespace=namespace, tracking_uri=uri)
    except registry.ModelIntegrityError as exc:
        # The registry logged the refusal as an error. Its files will not change back by
        # themselves: wait for a new version instead of fetching this one at every check.
        logger.warning("still serving %s instead of %s", _version_of(kept), exc.version)
        return dataclasses.replace(kept, refused=exc.version)
    except Exception:
        logger.exception(
            "could not refresh %s@%s of namespace %s; still serving %s",
            kind,
            alias,
            namespace,
            _version_of(kept),
        )
        return kept
    return _Entry(predictor=loaded.predictor, nbytes=loaded.nbytes, checked_at=now)


def _version_of(entry: _Entry) -> str:
    if entry.predictor is None:
        return "no model"
    return f"{entry.predictor.name} version {entry.predictor.version}"
