"""Train the fit and intent models of each product, log them to MLflow and gate promotion.

One run per (product, kind) in the experiment ``propensity-<product>``. Each run logs its
parameters, backtest metrics (AUC, PR-AUC, capture in the top 10%, Brier, AUC per
subsegment), the same figures for two naive baselines (firmographics only; most recent
signal) and, on a sandbox lake, for the oracle, a lift chart, feature importance, the model
with its signature and an input example, and lineage (month, input hash, code version).
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from propensity import contracts as C
from propensity.lake import Lake
from propensity.settings import Settings
from training import data as D
from training import tracking as T
from training.estimators import (
    INTENT_LGBM,
    PULookalikeClassifier,
    TimeCalibratedClassifier,
    default_lgbm,
    negative_rate_for,
    sample_negatives,
)
from training.metrics import binary_metrics, capture_at, lift_chart
from training.prep import FramePreparer

log = logging.getLogger(__name__)
MIN_POSITIVES = 20


@dataclass
class RunResult:
    product: str
    kind: str
    status: str  # trained, skipped
    metrics: dict[str, float] = field(default_factory=dict)
    version: str | None = None
    promoted: bool = False
    reason: str = ""
    run_id: str | None = None
    seconds: float = 0.0


def code_version() -> str:
    """Git commit of the working tree when available, else the package version."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=Path(__file__).parent, timeout=5)
        if out.returncode == 0:
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from propensity import __version__

    return __version__


def intent_params(settings: Settings, n_rows: int | None = None) -> dict[str, Any]:
    """LightGBM overrides of the intent model: :data:`INTENT_LGBM`, then the settings'
    ``training.lgbm`` (both kinds), then ``training.intent_lgbm`` (intent only).

    With ``n_rows`` (the training rows), ``min_child_samples`` is at most 1% of them (and at
    least 20): 150 rows per leaf suits a book of thousands of companies, but on a small book
    or a rare product (renewal has a few hundred eligible customers a month) it would leave
    the trees without a single split and the model constant.
    """
    params = {**INTENT_LGBM, **settings.training.lgbm, **settings.training.intent_lgbm}
    if n_rows is not None and "min_child_samples" in params:
        params["min_child_samples"] = min(int(params["min_child_samples"]),
                                          max(20, n_rows // 100))
    return params


def intent_pipeline(columns: list[str], settings: Settings, negative_rate: float = 1.0,
                    n_rows: int | None = None) -> Pipeline:
    """Preparer and time-calibrated LightGBM (parameters: :func:`intent_params`).
    ``negative_rate`` subsamples non-buyers in the estimator; :func:`train` leaves it at 1
    and samples at read time instead (with weights)."""
    return Pipeline([
        ("prep", FramePreparer(columns)),
        ("model", TimeCalibratedClassifier(
            estimator=default_lgbm(random_state=settings.seed,
                                   **intent_params(settings, n_rows)),
            calibration_share=settings.training.calibration_share,
            negative_rate=negative_rate,
            prefit_max_rows=settings.training.calibration_max_rows,
            random_state=settings.seed)),
    ])


def fit_pipeline(columns: list[str], settings: Settings) -> Pipeline:
    return Pipeline([
        ("prep", FramePreparer(columns)),
        ("model", PULookalikeClassifier(estimator=default_lgbm(random_state=settings.seed,
                                                               **settings.training.lgbm),
                                        negative_rate=settings.training.negative_rate,
                                        random_state=settings.seed)),
    ])


def _weights(X: pd.DataFrame) -> np.ndarray | None:
    return X[D.WEIGHT].to_numpy(float) if D.WEIGHT in X.columns else None


def fit_intent(X: pd.DataFrame, y: np.ndarray, t: np.ndarray, columns: list[str],
               settings: Settings) -> Pipeline:
    """Fit the intent pipeline on rows ``X`` (weighted when a sampled frame carries weights)."""
    pipe = intent_pipeline(columns, settings, n_rows=len(X))
    w = _weights(X)
    pipe.fit(X, y, model__sample_time=t, **({} if w is None else {"model__sample_weight": w}))
    return pipe


def shared_frame(lake: Lake, settings: Settings, plan: D.Plan) -> pd.DataFrame:
    """What every product's training reads: all training cut-offs (``negative_rate`` 1), or
    for large books (below 1) the latest cut-off alone, which only the fit model learns from:
    its columns and the win/loss its positives read (:func:`training.data.fit_read_columns`),
    not the web signals, which are most of the table."""
    if settings.training.negative_rate >= 1:
        return D.frame(lake, plan.train)
    month = plan.train[-1]
    return D.read_month(lake, month, labels=False,
                        columns=D.fit_read_columns(D.feature_names(lake, month)))


def training_frames(lake: Lake, settings: Settings, plan: D.Plan, product: str,
                    shared: pd.DataFrame | None = None,
                    kinds: tuple[str, ...] = ("fit", "intent"),
                    intent_rows: D.IntentRows | None = None) -> dict[str, pd.DataFrame]:
    """The training frame of each kind for ``product``.

    With ``training.negative_rate`` 1 both kinds read ``shared`` (:func:`shared_frame`: every
    training cut-off, read once for all products). Below 1 (large books, where twelve cut-offs
    do not fit in memory): intent reads its own lean, sampled, weighted frame (from
    ``intent_rows`` when given, :func:`intent_rows` read once for every product, else
    :func:`training.data.intent_frame`), and fit the latest cut-off (the lookalike learns
    from the latest book; its estimator samples the unlabeled rows).
    """
    shared = shared if shared is not None else shared_frame(lake, settings, plan)
    if settings.training.negative_rate >= 1:
        return {k: shared for k in kinds}
    out = {"fit": shared} if "fit" in kinds else {}
    if "intent" in kinds:
        out["intent"] = (intent_rows.frame(product) if intent_rows is not None
                         else D.intent_frame(lake, plan.train, product,
                                             settings.training.negative_rate, settings.seed))
    return out


def intent_rows(lake: Lake, settings: Settings, plan: D.Plan,
                products: tuple[str, ...]) -> D.IntentRows | None:
    """Every product's sampled intent rows, each training cut-off read once (large books,
    ``training.negative_rate`` below 1); None when :func:`shared_frame` already holds them."""
    if settings.training.negative_rate >= 1:
        return None
    return D.IntentRows(lake, plan.train, products, settings.training.negative_rate,
                        settings.seed)


def oracle_table(lake: Lake, month: str) -> pd.DataFrame | None:
    """The oracle's 3-month scores of every customer and product at ``month`` (sandbox lakes
    only, else None). Read once per run: at 1M companies it is 9M rows and ~20 s."""
    from sandbox.oracle import oracle_scores  # sandbox lakes only: evaluation-side truth

    if not lake.path(C.PURCHASE_PROBABILITY, month).exists():
        return None
    return oracle_scores(lake, month)


def _oracle(lake: Lake, month: str, product: str, customers: pd.Series,
            table: pd.DataFrame | None = None) -> np.ndarray | None:
    """The oracle's 3-month score for these customers at ``month`` (sandbox lakes only);
    ``table`` is :func:`oracle_table` of ``month`` when the caller already read it."""
    t = table if table is not None else oracle_table(lake, month)
    if t is None:
        return None
    t = t[t["product"] == product]
    s = pd.Series(t["probability"].to_numpy(float), index=t["customer_id"])
    return s.reindex(customers.astype(str)).fillna(0.0).to_numpy()


def _recent_signal_rule(df: pd.DataFrame, product: str) -> np.ndarray:
    """Naive baseline: most recent signal in the product's area first; never seen last."""
    col = f"sigarea_{product}_days_since_last"
    if col not in df.columns:  # no topic points to this product (e.g. renewal)
        return np.zeros(len(df))
    days = pd.to_numeric(df[col], errors="coerce")
    return (-days.fillna(1e6)).to_numpy(float)


def _firmographic_baseline(train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame,
                           settings: Settings) -> np.ndarray:
    """The firmographics-only baseline's scores of ``test``. On a large book it learns from
    at most ``training.calibration_max_rows`` rows (non-buyers sampled, weighted): a score
    from a dozen columns needs no more, and it is a yardstick, not a model we ship."""
    cols = [c for c in train.columns if c.startswith("firm_")]
    pipe = Pipeline([("prep", FramePreparer(cols)),
                     ("model", default_lgbm(random_state=settings.seed, **settings.training.lgbm))])
    w = _weights(train)
    cap = settings.training.calibration_max_rows
    rate = 1.0 if cap is None else negative_rate_for(np.asarray(y, int), cap)
    idx, w = sample_negatives(np.asarray(y, int), rate, w, settings.seed)
    if len(idx) < len(y):
        train, y = train.iloc[idx], np.asarray(y)[idx]
    pipe.fit(train, y, model__sample_weight=w)
    return pipe.predict_proba(test)[:, 1]


def _log_importance(pipe: Pipeline, out: Path) -> list[tuple[str, float]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    booster = pipe.named_steps["model"].estimator_.booster_
    gain = booster.feature_importance(importance_type="gain")
    names = booster.feature_name()
    pairs = sorted(zip(names, gain.tolist(), strict=True), key=lambda x: -x[1])
    (out / "feature_importance.json").write_text(json.dumps(pairs, indent=1))
    top = pairs[:20][::-1]
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.barh([n for n, _ in top], [g for _, g in top])
    ax.set_xlabel("total gain")
    ax.set_title("Top 20 features")
    fig.tight_layout()
    fig.savefig(out / "feature_importance.png", dpi=90)
    plt.close(fig)
    return pairs


def _champion_metrics(client: Any, name: str, X: pd.DataFrame, y: np.ndarray,
                      groups: dict[str, np.ndarray]) -> tuple[T.Champion | None, dict | None]:
    import mlflow

    champ = T.get_champion(client, name)
    if champ is None:
        return None, None
    try:
        model = mlflow.sklearn.load_model(f"models:/{name}@{T.CHAMPION}")
        prob = model.predict_proba(X)[:, 1]
    except Exception as exc:  # an incompatible champion (e.g. new feature set) cannot compete
        log.warning("%s: champion v%s cannot score this backtest (%s); treating as absent",
                    name, champ.version, exc)
        return champ, None
    return champ, binary_metrics(y, prob, groups)


def train_one(lake: Lake, settings: Settings, client: Any, plan: D.Plan, product: str,
              kind: str, train_df: pd.DataFrame, test_df: pd.DataFrame,
              data_hash: str, oracle: pd.DataFrame | None = None) -> RunResult:
    """Train, backtest, log and gate one model (``oracle``: :func:`oracle_table` of the
    backtest month, read here when not given)."""
    import mlflow
    from mlflow.models import infer_signature

    t0 = time.perf_counter()
    name = T.model_name(product, kind)
    exp_id = T.ensure_experiment(client, f"propensity-{product}", lake.root)
    cols = D.feature_columns(train_df, product, kind)
    # backtest rows: eligible customers at B, judged on what they bought next
    Xb, yb, _ = D.intent_set(test_df, product)
    if kind == "intent":
        X, y, t = D.intent_set(train_df, product)
        if y.sum() < MIN_POSITIVES or yb.sum() < 5:
            return RunResult(product, kind, "skipped",
                             reason=f"too few buyers: {int(y.sum())} in training, "
                             f"{int(yb.sum())} in the backtest (need {MIN_POSITIVES} and 5)")
        pipe = fit_intent(X, y, t, cols, settings)
    else:
        # the lookalike learns from the latest training cut-off's book (fit is a snapshot)
        latest = train_df[train_df["as_of"] == train_df["as_of"].max()]
        X, s = D.fit_set(latest, product)
        if s.sum() < MIN_POSITIVES or yb.sum() < 5:
            return RunResult(product, kind, "skipped",
                             reason=f"too few best customers ({int(s.sum())}) or backtest "
                             f"buyers ({int(yb.sum())})")
        pipe = fit_pipeline(cols, settings)
        pipe.fit(X, s)
    prob = pipe.predict_proba(Xb)[:, 1]
    groups = {"subsegment": Xb["firm_subsegment"].astype(str).to_numpy()}
    metrics = binary_metrics(yb, prob, groups)
    if kind == "intent":
        metrics.update({f"baseline_firmographic_{k}": v for k, v in binary_metrics(
            yb, _firmographic_baseline(X, y, Xb, settings)).items()
            if k in ("auc", "capture_top10")})
        rule = _recent_signal_rule(Xb, product)
        metrics["baseline_recent_signal_auc"] = binary_metrics(yb, rule)["auc"]
        metrics["baseline_recent_signal_capture_top10"] = capture_at(rule, yb)
    oracle = _oracle(lake, plan.backtest, product, Xb["customer_id"], oracle)
    if oracle is not None:
        om = binary_metrics(yb, oracle)
        metrics["oracle_auc"], metrics["oracle_capture_top10"] = om["auc"], om["capture_top10"]
        if om["capture_top10"] == om["capture_top10"] and om["capture_top10"] > 0:
            metrics["capture_vs_oracle"] = metrics["capture_top10"] / om["capture_top10"]
    champ, champ_metrics = _champion_metrics(client, name, Xb, yb, groups)
    with mlflow.start_run(experiment_id=exp_id, run_name=f"{kind}-{plan.month}") as run:
        mlflow.set_tags({"product": product, "kind": kind, "month": plan.month,
                         "backtest_month": plan.backtest, "data_hash": data_hash,
                         "code_version": code_version(), "lake": str(lake.root)})
        model_step = pipe.named_steps["model"]
        params = {f"lgbm_{k}": v for k, v in model_step.estimator_.get_params().items()
                  if k in ("n_estimators", "learning_rate", "num_leaves", "min_child_samples",
                           "subsample", "colsample_bytree", "reg_lambda")}
        params.update({"train_months": ",".join(plan.train), "n_features": len(cols),
                       "train_rows": len(X),
                       "negative_rate": settings.training.negative_rate, "train_positives": int(np.sum(y if kind == "intent" else s)),
                       "backtest_rows": len(Xb)})
        if kind == "intent":
            params["calibration"] = model_step.method_
            params["calibration_from"] = str(pd.Timestamp(model_step.calibration_from_).date())
            params["calibration_prefit_rows"] = model_step.prefit_rows_
        else:
            params["label_frequency_c"] = round(model_step.c_, 6)
        mlflow.log_params(params)
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v})
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            lift_chart(yb, prob, f"{product} {kind}: backtest {plan.backtest}",
                       str(out / "lift_chart.png"), reference=oracle)
            _log_importance(pipe, out)
            mlflow.log_artifacts(tmp)
        example = Xb[cols].head(5)
        signature = infer_signature(example, pipe.predict_proba(example))
        info = mlflow.sklearn.log_model(
            pipe, name="model", signature=signature, input_example=example,
            registered_model_name=name, pyfunc_predict_fn="predict_proba",
            serialization_format="skops", skops_trusted_types=T.SKOPS_TRUSTED,
            pip_requirements=T.pip_requirements())
        version = str(info.registered_model_version)
        promote, reason = T.challenger_wins(metrics, champ_metrics,
                                            settings.training.promotion_metric,
                                            settings.training.promotion_margin)
        if champ_metrics is not None:
            mlflow.log_metrics({f"champion_{k}": v for k, v in champ_metrics.items()
                                if k in ("auc", "capture_top10") and v == v})
        mlflow.set_tag("promotion", reason)
        run_id = run.info.run_id
    for k, v in {"month": plan.month, "backtest_month": plan.backtest, "kind": kind,
                 "data_hash": data_hash}.items():
        client.set_model_version_tag(name, version, k, v)
    if promote:
        T.set_champion(client, name, version, reason)
    log.info("%s v%s: AUC %.3f, top-10%% capture %.3f (oracle %.3f); %s", name, version,
             metrics["auc"], metrics["capture_top10"],
             metrics.get("oracle_capture_top10", float("nan")), reason)
    return RunResult(product, kind, "trained", metrics, version, promote, reason, run_id,
                     time.perf_counter() - t0)


def train(lake: Lake, settings: Settings, month: str, products: tuple[str, ...],
          kinds: tuple[str, ...] = ("fit", "intent"),
          progress: Any = None) -> list[RunResult]:
    """Train ``kinds`` for ``products`` for scoring month ``month``; returns one result each."""
    client = T.use_tracking(lake.root, settings.training.tracking_uri)
    p = D.plan(lake, month, settings.training.train_months)
    log.info("training for %s: train on %s..%s, backtest %s", month, p.train[0], p.train[-1],
             p.backtest)
    shared = shared_frame(lake, settings, p)
    test_df = D.read_month(lake, p.backtest)
    digest = D.data_hash(lake, [*p.train, p.backtest])
    oracle = oracle_table(lake, p.backtest)
    rows = intent_rows(lake, settings, p, products) if "intent" in kinds else None
    results = []
    for product in products:
        frames = training_frames(lake, settings, p, product, shared, kinds, rows)
        for kind in kinds:
            results.append(train_one(lake, settings, client, p, product, kind, frames[kind],
                                     test_df, digest, oracle))
            if progress:
                progress(product, kind)
        del frames
    return results
