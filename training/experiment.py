"""``propensity experiment``: the data scientist's entry point for any tabular binary problem.

Give it a CSV or Parquet file, the id column and the label column. It validates the table,
trains LightGBM with defaults that work without tuning (or searches a few parameters with
Optuna within a time budget), evaluates out of sample, logs everything to MLflow and writes
one out-of-sample score per id.

Evaluation: with ``--time-col``, an expanding window over the distinct times split into
``folds + 1`` consecutive blocks (train on the blocks before, score the next); rows of the
first block are never out of sample and get no score (``fold`` = -1, ``score`` empty).
Without a time column, stratified k-fold cross-validation scores every row once.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from training.estimators import default_lgbm
from training.metrics import binary_metrics, lift_chart
from training.prep import FramePreparer

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "y", "t", "won", "bought"}
_FALSE = {"0", "false", "no", "n", "f", "lost", "none"}


class ExperimentInputError(ValueError):
    """The table cannot be used as given; the message names file, column and rows."""


def read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise ExperimentInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path, low_memory=False)
    except Exception as exc:  # pandas raises many types; name the file either way
        raise ExperimentInputError(f"{path}: cannot be read as {suffix[1:]}: {exc}") from exc
    raise ExperimentInputError(f"{path}: use a .csv or .parquet file (got {suffix or 'none'})")


def check_table(df: pd.DataFrame, path: Path, id_col: str, label_col: str,
                time_col: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Validate and return (features frame with id/time kept, boolean labels)."""
    for role, col in (("id", id_col), ("label", label_col), ("time", time_col)):
        if col is not None and col not in df.columns:
            raise ExperimentInputError(f"{path}: no {role} column {col!r}; columns are "
                                       f"{list(df.columns)[:20]}")
    if df[id_col].isna().any():
        rows = df.index[df[id_col].isna()][:5].tolist()
        raise ExperimentInputError(f"{path}: id column {id_col!r} is empty at rows {rows}")
    dup = df[id_col].duplicated(keep=False)
    if dup.any() and time_col is None:
        raise ExperimentInputError(f"{path}: id column {id_col!r} has duplicates, e.g. "
                                   f"{df.loc[dup, id_col].head(3).tolist()}; give --time-col "
                                   "if rows are repeated over time")
    if time_col is not None and dup.any():
        pair = df.duplicated([id_col, time_col], keep=False)
        if pair.any():
            raise ExperimentInputError(f"{path}: ({id_col}, {time_col}) is not unique, e.g. "
                                       f"rows {df.index[pair][:5].tolist()}")
    raw = df[label_col]
    text = raw.astype(str).str.strip().str.lower()
    y = text.isin(_TRUE)
    bad = ~(y | text.isin(_FALSE)) | raw.isna()
    if bad.any():
        rows = df.index[bad][:5].tolist()
        raise ExperimentInputError(
            f"{path}: label column {label_col!r} must be binary (1/0, true/false, yes/no); "
            f"rows {rows} hold {raw[bad].head(5).tolist()}")
    if y.sum() < 10 or (~y).sum() < 10:
        raise ExperimentInputError(f"{path}: label {label_col!r} has {int(y.sum())} positive "
                                   f"and {int((~y).sum())} negative rows; need at least 10 each")
    if time_col is not None:
        t = pd.to_datetime(df[time_col], errors="coerce")
        if t.isna().all():
            t = pd.to_numeric(df[time_col], errors="coerce")
        if pd.isna(t).any():
            rows = df.index[pd.isna(t)][:5].tolist()
            raise ExperimentInputError(f"{path}: time column {time_col!r} is not a date or "
                                       f"number at rows {rows}")
        df = df.assign(**{time_col: t})
    features = [c for c in df.columns if c not in (id_col, label_col, time_col)]
    if not features:
        raise ExperimentInputError(f"{path}: no feature columns besides id/label/time")
    return df, y.to_numpy()


def _folds(df: pd.DataFrame, y: np.ndarray, time_col: str | None, folds: int,
           seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    if time_col is None:
        from sklearn.model_selection import StratifiedKFold

        k = int(min(folds, y.sum(), (~y).sum()))
        skf = StratifiedKFold(n_splits=max(k, 2), shuffle=True, random_state=seed)
        return list(skf.split(np.zeros(len(y)), y))
    times = np.sort(df[time_col].unique())
    if len(times) < 2:
        raise ExperimentInputError(f"time column {time_col!r} has a single value; a time "
                                   "split needs at least two")
    blocks = np.array_split(times, min(folds + 1, len(times)))
    out = []
    for i in range(1, len(blocks)):
        tr = np.flatnonzero(df[time_col].isin(np.concatenate(blocks[:i])).to_numpy())
        te = np.flatnonzero(df[time_col].isin(blocks[i]).to_numpy())
        if y[tr].sum() and (~y[tr]).sum():
            out.append((tr, te))
    if not out:
        raise ExperimentInputError("no time fold has both classes in its training rows")
    return out


def _pipeline(features: list[str], params: dict[str, Any], seed: int) -> Pipeline:
    return Pipeline([("prep", FramePreparer(features)),
                     ("model", default_lgbm(random_state=seed, **params))])


def _tune(df: pd.DataFrame, y: np.ndarray, features: list[str], splits: list, seconds: float,
          seed: int) -> dict[str, Any]:
    """Optuna search on the same splits, mean AUC, within ``seconds``."""
    import optuna
    from sklearn.metrics import roc_auc_score

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: Any) -> float:
        params = {
            "num_leaves": trial.suggest_int("num_leaves", 7, 63, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.1, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 10, 200, log=True),
            "n_estimators": trial.suggest_int("n_estimators", 100, 600, step=100),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        }
        aucs = []
        for tr, te in splits:
            if 0 < y[te].sum() < len(te):
                p = _pipeline(features, params, seed).fit(df.iloc[tr], y[tr])
                aucs.append(roc_auc_score(y[te], p.predict_proba(df.iloc[te])[:, 1]))
        return float(np.mean(aucs)) if aucs else 0.0

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, timeout=seconds, n_trials=200)
    log.info("optuna: %d trials, best mean AUC %.4f with %s", len(study.trials),
             study.best_value, study.best_params)
    return dict(study.best_params)


@dataclass
class ExperimentResult:
    metrics: dict[str, float]
    predictions: pd.DataFrame
    run_id: str
    params: dict[str, Any]


def run_experiment(table: Path, id_col: str, label_col: str, time_col: str | None,
                   lake_root: Path, tracking: str | None = None, folds: int = 5,
                   tune_seconds: float = 0.0, seed: int = 42,
                   experiment_name: str | None = None) -> ExperimentResult:
    """Validate, evaluate out of sample, fit on everything, log to MLflow."""
    import mlflow

    from training import tracking as T

    t0 = time.perf_counter()
    df, y = check_table(read_table(table), table, id_col, label_col, time_col)
    features = [c for c in df.columns if c not in (id_col, label_col, time_col)]
    splits = _folds(df, y, time_col, folds, seed)
    params = _tune(df, y, features, splits, tune_seconds, seed) if tune_seconds > 0 else {}
    score = np.full(len(df), np.nan)
    fold = np.full(len(df), -1)
    per_fold = []
    for i, (tr, te) in enumerate(splits):
        pipe = _pipeline(features, params, seed).fit(df.iloc[tr], y[tr])
        score[te] = pipe.predict_proba(df.iloc[te])[:, 1]
        fold[te] = i
        per_fold.append(binary_metrics(y[te], score[te]))
    held = fold >= 0
    metrics = binary_metrics(y[held], score[held])
    for k in ("auc", "pr_auc", "capture_top10", "brier"):
        vals = [m[k] for m in per_fold if m[k] == m[k]]
        metrics[f"{k}_fold_std"] = float(np.std(vals)) if vals else float("nan")
    final = _pipeline(features, params, seed).fit(df, y)
    preds = pd.DataFrame({id_col: df[id_col].to_numpy(), "score": score, "fold": fold,
                          "label": y.astype(int)})
    if time_col is not None:
        preds.insert(1, time_col, df[time_col].to_numpy())
    client = T.use_tracking(lake_root, tracking)
    name = experiment_name or f"experiment-{table.stem}"
    exp_id = T.ensure_experiment(client, name, lake_root)
    with mlflow.start_run(experiment_id=exp_id, run_name=table.name) as run:
        mlflow.set_tags({"table": str(table.resolve()), "id_col": id_col, "label_col": label_col,
                         "time_col": time_col or "", "evaluation": "time split" if time_col
                         else "stratified k-fold"})
        mlflow.log_params({"folds": len(splits), "features": len(features), "rows": len(df),
                           "tune_seconds": tune_seconds, **{f"lgbm_{k}": v for k, v in params.items()}})
        mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})
        with tempfile.TemporaryDirectory() as tmp:
            lift_chart(y[held], score[held], f"{table.name}: out-of-sample", f"{tmp}/lift_chart.png")
            preds.to_parquet(f"{tmp}/predictions.parquet", index=False)
            mlflow.log_artifacts(tmp)
        from mlflow.models import infer_signature

        example = df[features].head(5)
        mlflow.sklearn.log_model(final, name="model", input_example=example,
                                 signature=infer_signature(example, final.predict_proba(example)),
                                 pyfunc_predict_fn="predict_proba", serialization_format="skops",
                                 skops_trusted_types=T.SKOPS_TRUSTED,
                                 pip_requirements=T.pip_requirements())
        run_id = run.info.run_id
    log.info("experiment %s: %d rows, %d features, %d folds, %.1fs", name, len(df),
             len(features), len(splits), time.perf_counter() - t0)
    return ExperimentResult(metrics, preds, run_id, params)
