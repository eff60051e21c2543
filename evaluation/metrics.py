"""Backtest metrics per product and scorer, pooled over the replayed months, with intervals.

Input is :attr:`evaluation.backtest.Replay.rows` (one eligible row per month, customer and
product with ``label`` and one column per scorer). AUC, PR-AUC and Brier are computed on the
pooled rows; capture in the top 10% is taken within each month (a monthly list is what a
partner calls) and pooled as buyers reached over buyers, with a Wilson interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from evaluation.stats import auc_interval, expected_calibration_error, wilson

METRIC_COLUMNS = ["product", "scorer", "rows", "buyers", "base_rate", "auc", "auc_low",
                  "auc_high", "pr_auc", "capture_top10", "capture_low", "capture_high",
                  "brier", "ece", "capture_vs_oracle"]


def top_share_hits(rows: pd.DataFrame, scorer: str, share: float = 0.1) -> tuple[int, int]:
    """(buyers in each month's top ``share`` by ``scorer``, buyers), summed over months."""
    hit = total = 0
    for _, g in rows.groupby("month", sort=True):
        y = g["label"].to_numpy(bool)
        s = g[scorer].to_numpy(float)
        k = int(np.ceil(share * len(y)))
        top = np.argsort(-s, kind="stable")[:k]
        hit += int(y[top].sum())
        total += int(y.sum())
    return hit, total


def scorer_metrics(rows: pd.DataFrame, scorer: str, probabilistic: bool,
                   confidence: float = 0.95) -> dict[str, float]:
    """AUC (Hanley-McNeil interval), PR-AUC, pooled monthly top-10% capture (Wilson),
    and for probabilities Brier and expected calibration error, of one scorer."""
    d = rows[rows[scorer].notna()]
    y = d["label"].to_numpy(bool)
    s = d[scorer].to_numpy(float)
    pos = int(y.sum())
    out: dict[str, float] = {"rows": float(len(y)), "buyers": float(pos),
                             "base_rate": float(y.mean()) if len(y) else float("nan")}
    both = 0 < pos < len(y)
    auc = float(roc_auc_score(y, s)) if both else float("nan")
    iv = auc_interval(auc, pos, len(y) - pos, confidence)
    out.update(auc=auc, auc_low=iv.low, auc_high=iv.high,
               pr_auc=float(average_precision_score(y, s)) if both else float("nan"))
    hit, total = top_share_hits(d, scorer) if len(d) else (0, 0)
    cap = wilson(hit, total, confidence)
    out.update(capture_top10=cap.value, capture_low=cap.low, capture_high=cap.high)
    if probabilistic and len(y):
        out["brier"] = float(brier_score_loss(y, np.clip(s, 0, 1)))
        out["ece"] = expected_calibration_error(y, s)
    else:
        out["brier"] = out["ece"] = float("nan")
    return out


def backtest_metrics(rows: pd.DataFrame, scorers: tuple[str, ...],
                     probabilistic: tuple[str, ...], confidence: float = 0.95) -> pd.DataFrame:
    """One row per (product, scorer) with :data:`METRIC_COLUMNS`; scorers absent (all NaN,
    e.g. the oracle off the sandbox) are left out. ``capture_vs_oracle`` is the scorer's
    capture over the oracle's on the same rows."""
    out = []
    for product, d in rows.groupby("product", sort=True):
        oracle_cap = float("nan")
        block = []
        for sc in scorers:
            if sc not in d.columns or d[sc].isna().all():
                continue
            m = scorer_metrics(d, sc, sc in probabilistic, confidence)
            m.update(product=product, scorer=sc)
            if sc == "oracle":
                oracle_cap = m["capture_top10"]
            block.append(m)
        for m in block:
            m["capture_vs_oracle"] = (m["capture_top10"] / oracle_cap
                                      if oracle_cap == oracle_cap and oracle_cap > 0
                                      else float("nan"))
        out += block
    df = pd.DataFrame(out, columns=METRIC_COLUMNS)
    return df.astype({"rows": int, "buyers": int})


def monthly_metrics(rows: pd.DataFrame, scorers: tuple[str, ...]) -> pd.DataFrame:
    """AUC and top-10% capture per month, product and scorer (for trends and MLflow steps)."""
    out = []
    for (month, product), d in rows.groupby(["month", "product"], sort=True):
        y = d["label"].to_numpy(bool)
        for sc in scorers:
            if sc not in d.columns or d[sc].isna().all():
                continue
            s = d[sc].to_numpy(float)
            both = 0 < y.sum() < len(y)
            hit, total = top_share_hits(d, sc)
            out.append({"month": month, "product": product, "scorer": sc, "rows": len(y),
                        "buyers": int(y.sum()),
                        "auc": float(roc_auc_score(y, s)) if both else float("nan"),
                        "capture_top10": hit / total if total else float("nan")})
    return pd.DataFrame(out)
