"""Small statistics behind every figure of the evaluation report: intervals, PSI, calibration.

Rates (win rates, capture) get Wilson score intervals, which stay inside [0, 1] and behave
with few successes; AUC gets the Hanley-McNeil standard error. Population stability (PSI)
compares two samples of one quantity on bins cut at the reference sample's quantiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm


@dataclass(frozen=True)
class Interval:
    """A point estimate with its two-sided confidence interval."""

    value: float
    low: float
    high: float

    def fmt(self, pct: bool = True, digits: int = 1) -> str:
        """``12.3% [10.1, 14.8]`` (or plain numbers with ``pct=False``)."""
        if self.value != self.value:
            return "n/a"
        if pct:
            return (f"{100 * self.value:.{digits}f}% [{100 * self.low:.{digits}f}, "
                    f"{100 * self.high:.{digits}f}]")
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def wilson(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval of a proportion ``successes / trials`` (NaN when no trials)."""
    if trials <= 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    z = _z(confidence)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    # the bounds always bracket p; pin them where rounding would leave 1e-17 on the wrong side
    low = 0.0 if successes == 0 else min(p, max(0.0, centre - half))
    high = 1.0 if successes == trials else max(p, min(1.0, centre + half))
    return Interval(p, low, high)


def auc_interval(auc: float, positives: int, negatives: int,
                 confidence: float = 0.95) -> Interval:
    """Interval of an AUC from the Hanley-McNeil (1982) standard error, clipped to [0, 1]."""
    if auc != auc or positives == 0 or negatives == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc)
           + (negatives - 1) * (q2 - auc * auc)) / (positives * negatives)
    half = _z(confidence) * math.sqrt(max(var, 0.0))
    return Interval(auc, max(0.0, auc - half), min(1.0, auc + half))


def capture_interval(score: np.ndarray, label: np.ndarray, share: float = 0.1,
                     confidence: float = 0.95) -> Interval:
    """Share of buyers in the top ``share`` by score, with the Wilson interval over buyers."""
    y = np.asarray(label, bool)
    if y.sum() == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    k = int(np.ceil(share * len(y)))
    top = np.argsort(-np.asarray(score, float), kind="stable")[:k]
    return wilson(int(y[top].sum()), int(y.sum()), confidence)


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10,
        eps: float = 1e-4) -> float:
    """Population stability index of ``current`` against ``reference``.

    Bins are cut at the reference's quantiles (ties merged), with open outer edges; missing
    values form their own bin, so a column that starts arriving empty shows up as drift.
    ``sum((c - r) * ln(c / r))`` over bins, shares floored at ``eps``. NaN if either sample
    is empty. Conventional reading: < 0.1 stable, 0.1-0.25 moderate, > 0.25 shifted.
    """
    r = pd.to_numeric(pd.Series(reference), errors="coerce").to_numpy(float)
    c = pd.to_numeric(pd.Series(current), errors="coerce").to_numpy(float)
    if len(r) == 0 or len(c) == 0:
        return float("nan")
    rv, cv = r[~np.isnan(r)], c[~np.isnan(c)]
    edges = np.unique(np.quantile(rv, np.linspace(0, 1, bins + 1)[1:-1])) if len(rv) else []
    edges = np.asarray(edges, float)

    def shares(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
        counts = np.bincount(np.searchsorted(edges, valid, side="right"),
                             minlength=len(edges) + 1).astype(float)
        counts = np.append(counts, float(np.isnan(x).sum()))
        return np.maximum(counts / len(x), eps)

    rs, cs = shares(r, rv), shares(c, cv)
    return float(np.sum((cs - rs) * np.log(cs / rs)))


def psi_level(value: float, warn: float, alert: float) -> str:
    """``stable``, ``moderate`` or ``shifted`` for a PSI value (``n/a`` when NaN)."""
    if value != value:
        return "n/a"
    return "shifted" if value >= alert else "moderate" if value >= warn else "stable"


def calibration_table(label: np.ndarray, prob: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Equal-count bins of predicted probability: mean prediction, observed rate, rows.

    One row per bin (lowest predictions first) with columns ``predicted``, ``observed``,
    ``rows``, ``positives``; the reliability diagram plots observed against predicted.
    """
    y = np.asarray(label, bool)
    p = np.asarray(prob, float)
    if len(y) == 0:
        return pd.DataFrame(columns=["predicted", "observed", "rows", "positives"])
    order = np.argsort(p, kind="stable")
    rows = []
    for chunk in np.array_split(order, min(bins, len(y))):
        rows.append({"predicted": float(p[chunk].mean()), "observed": float(y[chunk].mean()),
                     "rows": int(len(chunk)), "positives": int(y[chunk].sum())})
    return pd.DataFrame(rows)


def expected_calibration_error(label: np.ndarray, prob: np.ndarray, bins: int = 10) -> float:
    """Row-weighted mean |observed - predicted| over equal-count bins."""
    t = calibration_table(label, prob, bins)
    if t.empty:
        return float("nan")
    return float(np.average((t["observed"] - t["predicted"]).abs(), weights=t["rows"]))
