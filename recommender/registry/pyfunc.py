"""The pyfunc face of a saved Recommender, so that `mlflow models serve` and other MLflow tooling
work. Workers never load it: recommender.registry.load reads only the saved model inside it
(MODEL_SUBPATH), so no code from the artifact store runs and the hot path never builds a
DataFrame. Also the figure of a neural training's curves that each run logs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.types.schema import Array, ColSpec, Schema

from recommender.predictor import Recommender, load_model

ARTIFACT_KEY = "model"
# Where a pyfunc model keeps an entry of ``artifacts={ARTIFACT_KEY: dir}`` inside its own
# directory: the saved Recommender, relative to the logged model's root.
MODEL_SUBPATH = f"artifacts/{ARTIFACT_KEY}"
# "Models from code": the artifact holds this tiny script instead of a pickled wrapper, so MLflow
# tooling never unpickles anything; it needs this package importable. Our workers do not run it.
ENTRY_POINT = """import mlflow

from recommender.registry.pyfunc import RecommenderPyfunc

mlflow.models.set_model(RecommenderPyfunc())
"""

SIGNATURE = ModelSignature(
    inputs=Schema(
        [
            ColSpec(Array("string"), "items"),
            ColSpec(Array("double"), "timestamps"),
            ColSpec("long", "k"),
        ]
    ),
    outputs=Schema([ColSpec(Array("string"), "items"), ColSpec(Array("double"), "scores")]),
)


class RecommenderPyfunc(PythonModel):
    """Pyfunc face of a saved Recommender; the model itself lives in the ``model`` artifact."""

    def __init__(self) -> None:
        self.model: Recommender | None = None

    def load_context(self, context: Any) -> None:
        self.model = load_model(Path(context.artifacts[ARTIFACT_KEY]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Rows of (items oldest first, timestamps, k) to rows of (items, scores)."""
        if self.model is None:
            raise RuntimeError("predict called before load_context")
        out_items: list[list[str]] = []
        out_scores: list[list[float]] = []
        for items, timestamps, k in zip(
            model_input["items"], model_input["timestamps"], model_input["k"], strict=True
        ):
            history = [(str(item), float(ts)) for item, ts in zip(items, timestamps, strict=True)]
            scored = self.model.recommend(history=history, k=int(k))
            out_items.append([entry.item_id for entry in scored])
            out_scores.append([entry.score for entry in scored])
        return pd.DataFrame({"items": out_items, "scores": out_scores})


def input_example() -> pd.DataFrame:
    return pd.DataFrame(
        {"items": [["1001", "1002"]], "timestamps": [[1767225000.0, 1767225060.0]], "k": [3]}
    )


def training_curves(epochs: Sequence[Any]) -> Any:
    """A figure of the training loss and validation NDCG per epoch."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a worker
    from matplotlib import pyplot as plt

    figure, (loss_axis, valid_axis) = plt.subplots(1, 2, figsize=(9, 3.5))
    x = [e.epoch for e in epochs]
    loss_axis.plot(x, [e.loss for e in epochs], marker="o")
    loss_axis.set(title="training loss", xlabel="epoch")
    valid_axis.plot(x, [e.valid_ndcg for e in epochs], marker="o", label="NDCG")
    valid_axis.plot(x, [e.valid_hr for e in epochs], marker="o", label="HR")
    valid_axis.set(title="validation (full ranking)", xlabel="epoch")
    valid_axis.legend()
    figure.tight_layout()
    return figure


def figure_close(figure: Any) -> None:
    from matplotlib import pyplot as plt

    plt.close(figure)
