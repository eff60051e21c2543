"""Pooled backtests of the intent model against the oracle and two naive baselines.

For each backtest cut-off ``B`` the intent model of each product is trained exactly as
:func:`training.train.train` trains it for the scoring month ``B + 3`` (cut-offs before ``B``
only, same data plan, same pipeline, same settings) and scores the customers eligible at
``B``; their label is whether they bought in ``B .. B+2``. Beside it, on the same rows:

- ``oracle``: the true probability of buying in the window (``truth/``; sandbox lakes only),
  the ceiling no model can beat in expectation;
- ``firmographic``: LightGBM on firmographics alone, trained on the same rows;
- ``recent_signal``: the most recent signal in the product's area first.

Nothing is logged to MLflow: this is a measurement, which an evaluation stage can call.
Capture in the top 10% is pooled over months: buyers found in each month's top 10% (the
list a partner gets that month), summed over months, over all buyers.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from propensity.lake import Lake
from propensity.months import add_months
from propensity.settings import Settings
from training import data as D
from training.metrics import binary_metrics
from training.train import (
    MIN_POSITIVES,
    _firmographic_baseline,
    _oracle,
    _recent_signal_rule,
    fit_intent,
    intent_rows,
    oracle_table,
    shared_frame,
    training_frames,
)

log = logging.getLogger(__name__)

SCORERS = ("model", "oracle", "firmographic", "recent_signal")


def backtest_scores(lake: Lake, settings: Settings, months: list[str],
                    products: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """One row per (month, product, eligible customer): label and every scorer's score."""
    parts = []
    for b in months:
        t0 = time.perf_counter()
        plan = D.plan(lake, add_months(b, 3), settings.training.train_months)
        if plan.backtest != b:
            raise D.TrainingDataError(f"no labelled features for the backtest month {b}")
        shared = shared_frame(lake, settings, plan)
        test = D.read_month(lake, b)
        truth = oracle_table(lake, b)
        sampled = intent_rows(lake, settings, plan, tuple(products))
        for product in products:
            frame = training_frames(lake, settings, plan, product, shared, ("intent",),
                                    sampled)["intent"]
            X, y, t = D.intent_set(frame, product)
            Xb, yb, _ = D.intent_set(test, product)
            if y.sum() < MIN_POSITIVES or yb.sum() == 0:
                log.warning("%s %s: skipped (%d buyers in training, %d in the backtest)",
                            b, product, int(y.sum()), int(yb.sum()))
                continue
            pipe = fit_intent(X, y, t, D.feature_columns(frame, product, "intent"), settings)
            oracle = _oracle(lake, b, product, Xb["customer_id"], truth)
            parts.append(pd.DataFrame({
                "month": b, "product": product,
                "customer_id": Xb["customer_id"].astype(str).to_numpy(), "label": yb,
                "model": pipe.predict_proba(Xb)[:, 1],
                "oracle": np.full(len(yb), np.nan) if oracle is None else oracle,
                "firmographic": _firmographic_baseline(X, y, Xb, settings),
                "recent_signal": _recent_signal_rule(Xb, product),
            }))
        log.info("backtest %s: trained on %s..%s (%.0fs)", b, plan.train[0], plan.train[-1],
                 time.perf_counter() - t0)
    if not parts:
        return pd.DataFrame(columns=["month", "product", "customer_id", "label", *SCORERS])
    return pd.concat(parts, ignore_index=True)


def pooled_capture(scores: pd.DataFrame, column: str, share: float = 0.1) -> float:
    """Buyers in each month's top ``share`` by ``column``, summed over months, over all buyers."""
    found, total = 0, 0
    for _, g in scores.groupby("month", sort=True):
        y = g["label"].to_numpy(bool)
        s = g[column].to_numpy(float)
        if np.isnan(s).all():
            return float("nan")
        k = int(np.ceil(share * len(s)))
        found += int(y[np.argsort(-s, kind="stable")[:k]].sum())
        total += int(y.sum())
    return found / total if total else float("nan")


def summarize(scores: pd.DataFrame) -> pd.DataFrame:
    """Per product: pooled top-10% capture and AUC of each scorer, and model / oracle."""
    rows = []
    for product, g in scores.groupby("product", sort=False):
        r: dict[str, object] = {"product": product, "months": g["month"].nunique(),
                                "rows": len(g), "buyers": int(g["label"].sum())}
        for c in SCORERS:
            r[f"{c}_capture_top10"] = pooled_capture(g, c)
            s = g[c].to_numpy(float)
            r[f"{c}_auc"] = (float("nan") if np.isnan(s).all()
                             else binary_metrics(g["label"].to_numpy(bool), s)["auc"])
        r["model_brier"] = binary_metrics(g["label"].to_numpy(bool), g["model"].to_numpy())["brier"]
        oc = r["oracle_capture_top10"]
        r["capture_vs_oracle"] = r["model_capture_top10"] / oc if oc and oc == oc else float("nan")
        rows.append(r)
    return pd.DataFrame(rows)


def backtest(lake: Lake, settings: Settings, months: list[str],
             products: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """Per-product metrics of the intent model, the oracle and the two baselines, pooled
    over the backtest cut-offs ``months`` (see the module docstring)."""
    return summarize(backtest_scores(lake, settings, months, products))
