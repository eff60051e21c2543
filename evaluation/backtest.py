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


def with_threads(settings: Settings, n_jobs: int | None) -> Settings:
    """``settings`` with LightGBM's threads set to ``n_jobs`` (``None``: unchanged).

    A replay fits many small models; on a busy machine two threads per fit ran several
    times slower than one. Threads do not change what is learned.
    """
    if n_jobs is None:
        return settings
    training = settings.training.model_copy(
        update={"lgbm": {**settings.training.lgbm, "n_jobs": n_jobs}})
    return settings.model_copy(update={"training": training})


def fit_month_models(lake: Lake, settings: Settings, plan: Any, test: pd.DataFrame,
                     products: tuple[str, ...]
                     ) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray], list[str]]:
    """The fit and intent models ``propensity train`` would fit on ``plan``, per product.

    Training's own functions read the frames (:func:`training.train.training_frames`, so
    sampling and weights for large books follow the settings) and fit the models
    (:func:`training.train.fit_intent`, :func:`training.train.fit_pipeline`); the
    firmographic baseline is training's too, fitted on the intent rows and applied to every
    row of ``test``. Returns (models for ``score_frame``, baseline scores per product aligned
    with ``test``, notes on what was skipped).
    """
    from training import data as D
    from training.train import (
        MIN_POSITIVES,
        _firmographic_baseline,
        fit_intent,
        fit_pipeline,
        intent_rows,
        shared_frame,
        training_frames,
    )

    models: dict[str, dict[str, Any]] = {}
    baselines: dict[str, np.ndarray] = {}
    notes: list[str] = []
    shared = shared_frame(lake, settings, plan)
    rows = intent_rows(lake, settings, plan, products)
    for product in products:
        frames = training_frames(lake, settings, plan, product, shared, intent_rows=rows)
        X, y, t = D.intent_set(frames["intent"], product)
        intent = None
        if y.sum() >= MIN_POSITIVES:
            intent = fit_intent(X, y, t, D.feature_columns(frames["intent"], product, "intent"),
                                settings)
            baselines[product] = _firmographic_baseline(X, y, test, settings)
        else:
            notes.append(f"{product}: no intent model ({int(y.sum())} buyers in training, "
                         f"need {MIN_POSITIVES})")
        fr = frames["fit"]
        Xf, s = D.fit_set(fr[fr["as_of"] == fr["as_of"].max()], product)  # as training does
        if s.sum() >= MIN_POSITIVES:
            fit = fit_pipeline(D.feature_columns(fr, product, "fit"), settings).fit(Xf, s)
            models[product] = {"fit": fit, "intent": intent}
        else:
            notes.append(f"{product}: no fit model ({int(s.sum())} best customers)")
        del frames
    return models, baselines, notes


def _recent_signal_rule(features: pd.DataFrame, product: str) -> np.ndarray:
    """Training's naive rule: most recent signal in the product's area first."""
    from training.train import _recent_signal_rule as rule

    return rule(features, product)


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
    fitting = with_threads(settings, n_jobs)
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
            plan = D.plan(lake, month, settings.training.train_months)
        except D.TrainingDataError as exc:
            notes.append(f"{month}: skipped, {exc}")
            continue
        train_m = plan.train
        if progress:
            progress(month)
        log.info("replay %s: training on %s..%s", month, train_m[0], train_m[-1])
        test = D.read_month(lake, month)
        models, baselines, why = fit_month_models(lake, fitting, plan, test, products)
        notes += [f"{month}: {w}" for w in why]
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
                oracle: pd.DataFrame | None, firmographic: np.ndarray | None) -> pd.DataFrame:
    """Eligible rows of one product and month with label, scores and every scorer."""
    s = scores[(scores["product"] == product) & scores["eligible"].astype(bool)
               & scores["probability"].notna()]
    keep = ["customer_id", "product", "probability", "fit_score", "intent_score", "fit_class",
            "intent_class", "cell", "cluster", "fit_probability"]
    s = s[[c for c in keep if c in s.columns]]
    t = test[["customer_id", f"label_{product}"]].rename(columns={f"label_{product}": "label"})
    t = t.assign(recent_signal=_recent_signal_rule(test, product),
                 firmographic=firmographic if firmographic is not None else np.nan)
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
