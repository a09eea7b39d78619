"""Every model kind, once: which class saves and loads it, which config shapes it, and whether it
trains with the neural trainer. `build` dispatches on it, `load_model` finds classes by it, and the
CLI and the app list kinds from it.

Classes are named as "module:attribute" and imported on first use: the neural models pull in
torch, which takes seconds to import and is not needed by a process that only serves co-visitation.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recommender.predictor import Recommender


def _attribute(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    model: str  # "module:Class" of the Recommender
    config: str  # "module:Class" of its config dataclass
    neural: bool = False  # fitted by recommender.trainer, warm-startable
    # The config field holding the co-occurrence window, set from whether timestamps are real.
    window_field: str | None = None

    def model_class(self) -> type[Recommender]:
        cls: type[Recommender] = _attribute(self.model)
        return cls

    def default_config(self, *, timed: bool) -> Any:
        """The kind's default config; without real time, any two items of a shopper co-occur."""
        config_class = _attribute(self.config)
        if self.window_field is None:
            return config_class()
        return config_class(**{self.window_field: 3600.0 if timed else float("inf")})


KINDS: Mapping[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "popularity",
            "recommender.popularity:Popularity",
            "recommender.popularity:PopularityConfig",
        ),
        Kind(
            "covisit",
            "recommender.covisit:CoVisitation",
            "recommender.covisit:CoVisitConfig",
            window_field="window_s",
        ),
        Kind("als", "recommender.als:ALS", "recommender.als:ALSConfig"),
        Kind(
            "stan",
            "recommender.stan:STAN",
            "recommender.stan:STANConfig",
            window_field="session_gap_s",
        ),
        Kind("sasrec", "recommender.sasrec:SASRec", "recommender.sasrec:SASRecConfig", neural=True),
        Kind(
            "slirec",
            "recommender.slirec:SLiRec",
            "recommender.slirec:SLiRecConfig",
            neural=True,
            window_field="covisit_window_s",
        ),
    )
}
NEURAL: tuple[str, ...] = tuple(name for name, kind in KINDS.items() if kind.neural)


def kind_get(name: str) -> Kind:
    """The kind called ``name``; ValueError naming the known ones otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown model kind {name!r}; known: {', '.join(KINDS)}") from None
