"""Backtests that replay months: train before M, score M as the monthly job would, compare
with what was bought in the three months after.

For each replayed month M the models are fitted as ``propensity train --month M`` fits them:
on the labelled cut-offs before ``M - 3`` (:func:`training.data.plan`; every label window
they see closed before M's cut-off), never on a random split; then M's feature table is
scored through :func:`scoring.score_frame`, the same code the monthly job runs, so the
clusters judged here are the clusters partners get. Each eligible (month, customer, product) row keeps the model's probability, scores,
cell and cluster, the label (``labels/month=M``), the oracle's probability (sandbox lakes
only) and two naive baselines (a firmographics-only model; most recent signal first).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import month_range
from propensity.settings import Settings

log = logging.getLogger(__name__)

#: Scorers compared in every table, in this order: the model, the ceiling, the baselines.
SCORERS = ("model", "oracle", "firmographic", "recent_signal")
#: Scorers whose output is a probability (Brier and calibration make sense for them).
PROBABILISTIC = ("model", "oracle", "firmographic")


class BacktestError(ValueError):
    """The lake cannot support the replay asked for; the message says what is missing."""


@dataclass
class Replay:
    """Everything a replay produced, ready for metrics, clusters, drift and the report."""

    months: list[str]
    products: tuple[str, ...]
    rows: pd.DataFrame  # eligible rows: month, customer_id, product, scores, label, scorers
    scores: pd.DataFrame  # every scored row (SCORES contract) of every replayed month
    train_months: dict[str, list[str]] = field(default_factory=dict)
    importance: dict[str, dict[str, float]] = field(default_factory=dict)  # product -> gain
    notes: list[str] = field(default_factory=list)  # skipped products and months, in words
    seconds: float = 0.0


def training_months(lake: Lake, month: str, train_months: int) -> list[str]:
    """Labelled cut-offs the models for ``month`` learn from: what the monthly job uses.

    :func:`training.data.plan` for ``month``: the backtest cut-off ``B = M - 3`` (the latest
    whose 3-month window closed before M's cut-off) is held out for the champion gate and
    the models learn from the ``train_months`` cut-offs before it, so every window they see
    closed before M. Raises :class:`BacktestError` when fewer than two exist.
    """
    from training import data as D

    try:
        return D.plan(lake, month, train_months).train
    except D.TrainingDataError as exc:
        raise BacktestError(str(exc)) from exc


def _threads(pipe: Any, n_jobs: int | None) -> Any:
    """Set every ``*n_jobs`` parameter of ``pipe`` (LightGBM threads) to ``n_jobs``."""
    if n_jobs is not None:
        pipe.set_params(**{k: n_jobs for k in pipe.get_params() if k.endswith("n_jobs")})
    return pipe


def fit_month_models(train: pd.DataFrame, products: tuple[str, ...], settings: Settings,
                     min_positives: int = 20, n_jobs: int | None = 1
                     ) -> tuple[dict[str, dict[str, Any]], dict[str, Any], list[str]]:
    """Fit and intent pipelines per product (as training fits them) plus the firmographic
    baseline; returns (models for ``score_frame``, baselines, notes on what was skipped).

    ``n_jobs`` overrides LightGBM's threads: a replay fits many small models, and on a busy
    machine two threads per fit ran several times slower than one (``None`` keeps training's).
    """
    from training import data as D
    from training.train import fit_pipeline, intent_pipeline

    models: dict[str, dict[str, Any]] = {}
    baselines: dict[str, Any] = {}
    notes: list[str] = []
    latest = train[train["as_of"] == train["as_of"].max()]
    for product in products:
        X, y, t = D.intent_set(train, product)
        intent = None
        if y.sum() >= min_positives:
            intent = _threads(intent_pipeline(D.feature_columns(train, product, "intent"),
                                              settings), n_jobs)
            intent.fit(X, y, model__sample_time=t)
            baselines[product] = _fit_firmographic(X, y, settings, n_jobs)
        else:
            notes.append(f"{product}: no intent model ({int(y.sum())} buyers in training, "
                         f"need {min_positives})")
        Xf, s = D.fit_set(latest, product)
        fit = None
        if s.sum() >= min_positives:
            fit = _threads(fit_pipeline(D.feature_columns(train, product, "fit"), settings),
                           n_jobs)
            fit.fit(Xf, s)
        else:
            notes.append(f"{product}: no fit model ({int(s.sum())} best customers)")
        if fit is not None:
            models[product] = {"fit": fit, "intent": intent}
    return models, baselines, notes


def _fit_firmographic(X: pd.DataFrame, y: np.ndarray, settings: Settings,
                      n_jobs: int | None = 1) -> Any:
    """The firmographics-only baseline: the same learner, firmographic columns only."""
    from sklearn.pipeline import Pipeline

    from training.estimators import default_lgbm
    from training.prep import FramePreparer

    cols = [c for c in X.columns if c.startswith("firm_")]
    pipe = Pipeline([("prep", FramePreparer(cols)),
                     ("model", default_lgbm(random_state=settings.seed, **settings.training.lgbm))])
    return _threads(pipe, n_jobs).fit(X, y)


def recent_signal_score(features: pd.DataFrame, product: str) -> np.ndarray:
    """Naive rule: most recent signal in the product's area first; never seen last."""
    col = f"sigarea_{product}_days_since_last"
    if col not in features.columns:
        return np.zeros(len(features))
    days = pd.to_numeric(features[col], errors="coerce")
    return (-days.fillna(1e6)).to_numpy(float)


def oracle_frame(lake: Lake, month: str) -> pd.DataFrame | None:
    """The oracle's 3-month probability per (customer_id, product), or None off the sandbox."""
    if not lake.path(C.PURCHASE_PROBABILITY, month).exists():
        return None
    from sandbox.oracle import oracle_scores  # sandbox lakes only: evaluation-side truth

    t = oracle_scores(lake, month)
    return t[["customer_id", "product", "probability"]].rename(
        columns={"probability": "oracle"})


def _importance(pipe: Any) -> dict[str, float]:
    try:
        booster = pipe.named_steps["model"].estimator_.booster_
    except (AttributeError, KeyError):
        return {}
    gain = booster.feature_importance(importance_type="gain")
    return dict(zip(booster.feature_name(), map(float, gain), strict=True))


def replay(lake: Lake, settings: Settings, start: str, end: str,
           products: tuple[str, ...] | None = None,
           score: Callable[..., pd.DataFrame] | None = None,
           progress: Callable[[str], None] | None = None, n_jobs: int | None = 1) -> Replay:
    """Replay months ``start``..``end``: train before each, score it, join what happened.

    ``score`` defaults to :func:`scoring.score_frame`. Months without labels (window not
    closed) or without enough labelled history are skipped with a note; a replay with no
    month left raises :class:`BacktestError`.
    """
    from training import data as D

    if score is None:
        from scoring import score_frame as score
    t0 = time.perf_counter()
    products = tuple(products or settings.products)
    labelled = set(lake.months("labels"))
    rows, scored, notes = [], [], []
    train_used: dict[str, list[str]] = {}
    gains: dict[str, list[dict[str, float]]] = {p: [] for p in products}
    for month in month_range(start, end):
        if month not in labelled:
            notes.append(f"{month}: skipped, no labels (its 3-month window has not closed or "
                         "features were not built)")
            continue
        try:
            train_m = training_months(lake, month, settings.training.train_months)
        except BacktestError as exc:
            notes.append(f"{month}: skipped, {exc}")
            continue
        if progress:
            progress(month)
        log.info("replay %s: training on %s..%s", month, train_m[0], train_m[-1])
        train = D.frame(lake, train_m)
        test = D.read_month(lake, month)
        models, baselines, why = fit_month_models(train, products, settings, n_jobs=n_jobs)
        notes += [f"{month}: {w}" for w in why]
        del train
        # no reasons and no movement: neither is judged here, and both cost time
        s = score(test.drop(columns=[c for c in test.columns if c.startswith("label_")]),
                  models, settings, month=month, reasons=False)
        s = s.copy()
        s["month"] = month
        scored.append(s)
        train_used[month] = train_m
        oracle = oracle_frame(lake, month)
        for product in products:
            if product not in models:
                continue
            if models[product]["intent"] is not None:
                gains[product].append(_importance(models[product]["intent"]))
            rows.append(_month_rows(test, s, product, month, oracle, baselines.get(product)))
    if not scored:
        raise BacktestError(f"nothing to replay in {start}..{end}: " + "; ".join(notes))
    importance = {}
    for p, dicts in gains.items():
        if dicts:
            importance[p] = pd.DataFrame(dicts).fillna(0).mean().sort_values(
                ascending=False).to_dict()
    all_rows = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return Replay(sorted(train_used), products, all_rows, pd.concat(scored, ignore_index=True),
                  train_used, importance, notes, time.perf_counter() - t0)


def _month_rows(test: pd.DataFrame, scores: pd.DataFrame, product: str, month: str,
                oracle: pd.DataFrame | None, firmographic: Any) -> pd.DataFrame:
    """Eligible rows of one product and month with label, scores and every scorer."""
    s = scores[(scores["product"] == product) & scores["eligible"].astype(bool)
               & scores["probability"].notna()]
    keep = ["customer_id", "product", "probability", "fit_score", "intent_score", "fit_class",
            "intent_class", "cell", "cluster", "fit_probability"]
    s = s[[c for c in keep if c in s.columns]]
    t = test[["customer_id", f"label_{product}"]].rename(columns={f"label_{product}": "label"})
    t = t.assign(recent_signal=recent_signal_score(test, product))
    if firmographic is not None:
        t["firmographic"] = firmographic.predict_proba(test)[:, 1]
    else:
        t["firmographic"] = np.nan
    out = s.merge(t, on="customer_id", how="inner", validate="one_to_one")
    if oracle is not None:
        o = oracle[oracle["product"] == product][["customer_id", "oracle"]]
        out = out.merge(o, on="customer_id", how="left")
    else:
        out["oracle"] = np.nan
    out["label"] = out["label"].astype(bool)
    out["model"] = out["probability"].astype(float)
    out.insert(0, "month", month)
    return out
