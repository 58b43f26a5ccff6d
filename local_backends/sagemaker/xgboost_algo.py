"""The built-in SageMaker XGBoost algorithm, as a program that reads the container contract.

Run as ``python -m local_backends.sagemaker.xgboost_algo`` with ``SAGEMAKER_BASE_DIR``
pointing at the job's ``/opt/ml`` tree, it does what the ``sagemaker-xgboost`` image does
when no ``sagemaker_program`` is given: it reads ``hyperparameters.json`` (every value a
string), trains on the ``train`` channel (CSV with the label in the first column and no
header, or libsvm), evaluates on ``train`` and ``validation`` each round and logs as the
container does (``[3]#011train-logloss:0.51#011validation-logloss:0.56``), then saves the
booster as ``model/xgboost-model``. Errors are written to ``output/failure``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

CSV_TYPES = {"text/csv", "csv", "text/csv; label_size=1"}
LIBSVM_TYPES = {"libsvm", "text/libsvm", "text/x-libsvm"}
PARQUET_TYPES = {"application/x-parquet", "parquet"}

# Hyperparameters of the container that are not XGBoost booster parameters.
_CONTAINER_ONLY = {"num_round", "early_stopping_rounds", "csv_weights", "save_model_on_termination",
                   "_kfold", "_num_cv_round", "_tuning_objective_metric"}

METRICS = ["rmse", "rmsle", "mae", "mape", "mphe", "logloss", "error", "merror", "mlogloss",
           "auc", "aucpr", "ndcg", "map", "poisson-nloglik", "gamma-nloglik", "cox-nloglik",
           "gamma-deviance", "tweedie-nloglik", "accuracy", "f1", "mse", "r2",
           "balanced_accuracy", "precision", "recall"]
"""Evaluation metrics the built-in algorithm reports (``train:<m>`` and ``validation:<m>``)."""

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


try:                                    # imported from the package
    from .algorithm_main import CustomerError, run
except ImportError:                     # run as a file: this folder is on sys.path
    from algorithm_main import CustomerError, run  # type: ignore[no-redef]


def metric_definitions() -> list[dict]:
    """The metric definitions SageMaker attaches to built-in XGBoost jobs."""
    return [{"Name": f"{channel}:{m}", "Regex": rf".*\[[0-9]+\].*#011{channel}-{m}:{_NUMBER}.*"}
            for channel in ("train", "validation") for m in METRICS]


def _param(value: str):
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def booster_params(hyperparameters: dict[str, str]) -> tuple[dict, int, int | None]:
    """XGBoost parameters, ``num_round`` and ``early_stopping_rounds`` from string values."""
    if "num_round" not in hyperparameters:
        raise CustomerError("Missing required hyperparameter: num_round")
    try:
        num_round = int(hyperparameters["num_round"])
    except ValueError:
        raise CustomerError(f"Hyperparameter num_round: {hyperparameters['num_round']!r} "
                            f"is not an integer") from None
    early = hyperparameters.get("early_stopping_rounds")
    params: dict = {"verbosity": 1}
    metrics: list[str] = []
    for key, value in hyperparameters.items():
        if key in _CONTAINER_ONLY or key.startswith("sagemaker_"):
            continue
        if key == "eval_metric":
            metrics = [m.strip() for m in str(value).split(",") if m.strip()]
            continue
        params[key] = _param(str(value))
    params.setdefault("objective", "reg:squarederror")
    if metrics:
        params["eval_metric"] = metrics
    return params, num_round, int(early) if early else None


def _files(channel_dir: Path) -> list[Path]:
    files = sorted(p for p in channel_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise CustomerError(f"No data found in channel {channel_dir.name!r} ({channel_dir})")
    return files


def load_channel(channel_dir: Path, content_type: str | None):
    """A ``DMatrix`` of one channel (every file of it, in name order)."""
    import numpy as np
    import xgboost as xgb

    ctype = (content_type or "libsvm").split(";")[0].strip().lower()
    files = _files(channel_dir)
    if ctype in ("text/csv", "csv"):
        import pandas as pd
        frames = [pd.read_csv(f, header=None) for f in files]
        data = pd.concat(frames, ignore_index=True)
        try:
            values = data.to_numpy(dtype=np.float32)
        except ValueError as exc:
            raise CustomerError(f"Non-numeric value in CSV channel {channel_dir.name!r}: {exc}. "
                                f"The label must be the first column and there must be no header.") from None
        if values.shape[1] < 2:
            raise CustomerError(f"CSV channel {channel_dir.name!r} needs a label column and at least one feature")
        return xgb.DMatrix(values[:, 1:], label=values[:, 0])
    if ctype in LIBSVM_TYPES:
        from sklearn.datasets import load_svmlight_files
        parts = load_svmlight_files([str(f) for f in files], zero_based="auto")
        xs, ys = parts[0::2], parts[1::2]
        import scipy.sparse as sp
        width = max(x.shape[1] for x in xs)
        x = sp.vstack([sp.csr_matrix((x.data, x.indices, x.indptr), shape=(x.shape[0], width)) for x in xs])
        return xgb.DMatrix(x, label=np.concatenate(ys))
    if ctype in PARQUET_TYPES:
        import pandas as pd
        data = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        values = data.to_numpy(dtype=np.float32)
        return xgb.DMatrix(values[:, 1:], label=values[:, 0])
    raise CustomerError(f"Content type {content_type!r} of channel {channel_dir.name!r} is not "
                        f"supported: use text/csv, text/libsvm or application/x-parquet")


def train(base: Path) -> None:
    """Train from the contract tree at ``base``; raises :class:`CustomerError` on bad input."""
    config = base / "input" / "config"
    hyperparameters = json.loads((config / "hyperparameters.json").read_text())
    data_config = json.loads((config / "inputdataconfig.json").read_text())
    if "train" not in data_config:
        raise CustomerError("Channel 'train' is required for the built-in XGBoost algorithm")
    params, num_round, early = booster_params(hyperparameters)  # checked before the slow import
    import xgboost as xgb
    dtrain = load_channel(base / "input" / "data" / "train", data_config["train"].get("ContentType"))
    evals = [(dtrain, "train")]
    if "validation" in data_config:
        dval = load_channel(base / "input" / "data" / "validation",
                            data_config["validation"].get("ContentType"))
        evals.append((dval, "validation"))
    if early and len(evals) < 2:
        raise CustomerError("early_stopping_rounds needs a 'validation' channel")

    class _Log(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            parts = [f"[{epoch}]"]
            for data_name, metrics in evals_log.items():
                for metric, values in metrics.items():
                    parts.append(f"{data_name}-{metric}:{values[-1]:.5f}")
            print("#011".join(parts), flush=True)
            return False

    print(f"[xgboost] training with {params} for {num_round} rounds", flush=True)
    try:
        booster = xgb.train(params, dtrain, num_boost_round=num_round, evals=evals,
                            early_stopping_rounds=early, callbacks=[_Log()], verbose_eval=False)
    except xgb.core.XGBoostError as exc:
        raise CustomerError(str(exc).strip().splitlines()[0]) from None
    model_dir = base / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / "xgboost-model"))


def main() -> int:
    return run(train)


if __name__ == "__main__":
    sys.exit(main())
