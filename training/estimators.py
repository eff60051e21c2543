"""scikit-learn estimators for the two model kinds.

- :class:`PULookalikeClassifier` (fit): positive-unlabeled learning. The vendor knows its best
  customers of a product (positives) but not who else would be a good customer: everyone
  else is *unlabeled*, not negative. Following Elkan & Noto (2008), a classifier ``g`` learns
  labelled-vs-unlabeled; on held-out positives ``c = E[g(x) | labelled]`` estimates the label
  frequency, and ``p(good | x) = g(x) / c`` (clipped to [0, 1]) ranks lookalikes.
- :class:`TimeCalibratedClassifier` (intent): a LightGBM classifier whose probabilities are
  calibrated on the *latest* time slice of the training data (never a random split), with
  isotonic regression when the slice has enough positives and a Platt sigmoid otherwise.

Both follow the estimator API: parameters stored in ``__init__``, ``fit`` validates and
returns ``self``, learned state ends in ``_``, ``predict_proba`` returns two columns in [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

DEFAULT_LGBM: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_child_samples": 40,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "verbose": -1,
}


#: What the intent model changes on top of :data:`DEFAULT_LGBM`: fewer, larger leaves, more
#: L2 and half the columns per tree. Its purchase labels are few and noisy; in pooled
#: backtests on the default market (6 months, 9 products) this raised top-10% capture on
#: every product (+0.6 to +2.9 points; README, "Intent quality against the oracle").
INTENT_LGBM: dict[str, Any] = {
    "n_estimators": 400,
    "num_leaves": 7,
    "min_child_samples": 150,
    "reg_lambda": 10.0,
    "colsample_bytree": 0.5,
}


def default_lgbm(random_state: int = 0, n_jobs: int = 2, **overrides: Any) -> Any:
    """A LightGBM classifier with defaults that work without tuning on propensity data."""
    from lightgbm import LGBMClassifier

    return LGBMClassifier(**{**DEFAULT_LGBM, "random_state": random_state, "n_jobs": n_jobs,
                             **overrides})


def _validate(est: BaseEstimator, X: Any, y: Any = None, reset: bool = True) -> Any:
    """Validate at the boundary, keeping pandas frames (LightGBM reads their categories)."""
    if hasattr(X, "dtypes") and hasattr(X, "columns"):
        # pandas input: check shape/feature names through sklearn, keep the frame itself
        validate_data(est, X, reset=reset, skip_check_array=True)
        if y is None:
            return X
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        return X, y
    if y is None:
        return validate_data(est, X, reset=reset, ensure_all_finite="allow-nan")
    return validate_data(est, X, y, reset=reset, ensure_all_finite="allow-nan")


def _check_fit_input(est: BaseEstimator, X: Any, y: Any) -> tuple[Any, np.ndarray]:
    if y is None:
        raise ValueError(f"{type(est).__name__} requires y to be passed, but the target y is None")
    X, y = _validate(est, X, y)
    check_classification_targets(y)
    est.classes_ = np.unique(y)
    if len(est.classes_) != 2:
        raise ValueError(f"Only binary classification is supported. {type(est).__name__}: y has "
                         f"{len(est.classes_)} class(es) ({est.classes_[:5].tolist()})")
    return X, y


def sample_negatives(yb: np.ndarray, rate: float, weight: Any, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Rows kept (every positive, a ``rate`` share of negatives) and their weights.

    A kept negative weighs ``1 / rate`` times its given weight (Horvitz-Thompson), so the
    weighted sample has the class balance of the full data and probabilities fitted on it
    stay calibrated. ``rate`` 1 keeps every row.
    """
    n = len(yb)
    w = np.ones(n) if weight is None else np.asarray(weight, float)
    if len(w) != n:
        raise ValueError(f"sample_weight has {len(w)} values for {n} rows")
    if weight is not None and (not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0):
        raise ValueError("sample_weight must be finite, non-negative and not all zero")
    if not 0 < rate <= 1:
        raise ValueError(f"negative_rate must be in (0, 1], got {rate!r}")
    if rate >= 1:
        return np.arange(n), w
    keep = (yb == 1) | (np.random.default_rng(seed).random(n) < rate)
    idx = np.flatnonzero(keep)
    return idx, np.where(yb[idx] == 1, w[idx], w[idx] / rate)


def negative_rate_for(yb: np.ndarray, max_rows: int) -> float:
    """Share of negatives to keep so that about ``max_rows`` rows remain, every positive kept
    and at least as many negatives as positives (1 when the rows already fit)."""
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, got {max_rows!r}")
    pos = int(np.sum(yb == 1))
    neg = len(yb) - pos
    if len(yb) <= max_rows or neg == 0:
        return 1.0
    return min(1.0, max(max_rows - pos, pos, 1) / neg)


def _rows(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


def _binary_tags(tags: Any) -> Any:
    tags.classifier_tags.multi_class = False
    tags.input_tags.allow_nan = True
    return tags


class PULookalikeClassifier(ClassifierMixin, BaseEstimator):
    """Lookalike scoring from positives and unlabeled rows (Elkan & Noto estimator).

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, default LightGBM with :data:`DEFAULT_LGBM`
    holdout : share of labelled positives held out to estimate the label frequency ``c``
    negative_rate : share of unlabeled rows kept for the fit (each kept one weighs
        ``1 / negative_rate``); 1 keeps every row. For large books: the fit's cost follows
        the rows, and the weights keep ``g`` an estimate for the whole population.
    random_state : seed of the holdout split, the subsample and the default estimator
    """

    def __init__(self, estimator: Any = None, holdout: float = 0.2, negative_rate: float = 1.0,
                 random_state: int = 0) -> None:
        self.estimator = estimator
        self.holdout = holdout
        self.negative_rate = negative_rate
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PULookalikeClassifier:
        """``y`` is 1 for labelled positives (best customers), 0 for unlabeled rows."""
        X, y = _check_fit_input(self, X, y)
        yb = (y == self.classes_[1]).astype(int)
        idx, w = sample_negatives(yb, self.negative_rate, sample_weight, self.random_state)
        if len(idx) < len(yb):
            X, yb = _rows(X, idx), yb[idx]
        rng = np.random.default_rng(self.random_state)
        pos = np.flatnonzero(yb == 1)
        n_hold = int(round(self.holdout * len(pos)))
        hold = rng.choice(pos, size=n_hold, replace=False) if 0 < n_hold < len(pos) else pos[:0]
        train = np.ones(len(yb), bool)
        train[hold] = False
        base = self.estimator if self.estimator is not None else default_lgbm(self.random_state)
        self.estimator_ = clone(base)
        Xt = X.iloc[train] if hasattr(X, "iloc") else X[train]
        self.estimator_.fit(Xt, yb[train], sample_weight=w[train])
        rows = hold if len(hold) else pos  # too few positives to hold any out: use them all
        g = self.estimator_.predict_proba(_rows(X, rows))[:, 1]
        self.c_ = float(np.clip(np.average(g, weights=w[rows]), 1e-6, 1.0)) if len(g) else 1.0
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns: [1 - p, p] with p = g(x) / c clipped to [0, 1]."""
        check_is_fitted(self)
        X = _validate(self, X, reset=False)
        p = np.clip(self.estimator_.predict_proba(X)[:, 1] / self.c_, 0.0, 1.0)
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        p = self.predict_proba(X)[:, 1]
        return self.classes_[(p >= 0.5).astype(int)]

    def __sklearn_tags__(self) -> Any:
        return _binary_tags(super().__sklearn_tags__())


class TimeCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """A classifier calibrated on the latest time slice of its training data.

    ``fit(X, y, sample_time=t)`` trains the base estimator on rows whose time is before the
    last ``calibration_share`` of distinct times and fits the calibrator on that later
    slice; the final base model is then refitted on all rows when ``refit`` is True.
    Without ``sample_time`` the rows are taken to be in time order.

    Parameters
    ----------
    estimator : base classifier, default LightGBM with :data:`DEFAULT_LGBM`
    calibration_share : share of the latest distinct times used to calibrate
    method : "sigmoid" (Platt scaling, the default: strictly monotone, so the ranking and
        every ranking metric are exactly those of the base model), "isotonic" (a step
        function: it ties many rows and measurably lowered top-10% capture in our
        backtests), or "auto" (isotonic with >= ``min_isotonic_positives`` positives)
    refit : refit the base model on all rows after calibrating, so the latest months also
        teach the ranking (default; the calibration map then applies to a model trained on
        a little more data, which the backtest's Brier score checks)
    negative_rate : share of negative rows kept (every positive is kept); each kept negative
        weighs ``1 / negative_rate`` in the base model and in the calibrator, so the
        probabilities stay calibrated on the full population. 1 keeps every row.
    prefit_max_rows : with ``refit``, the most rows the pre-fit (the model that only scores
        the calibration slice) learns from: above it, its negatives are sampled (weighted, as
        for ``negative_rate``). The final model still learns from every row, so rankings are
        untouched; on a large book most of the pre-fit's time is saved. None: no cap.
    """

    def __init__(self, estimator: Any = None, calibration_share: float = 0.25,
                 method: str = "sigmoid", refit: bool = True, min_isotonic_positives: int = 50,
                 negative_rate: float = 1.0, prefit_max_rows: int | None = None,
                 random_state: int = 0) -> None:
        self.estimator = estimator
        self.calibration_share = calibration_share
        self.method = method
        self.refit = refit
        self.min_isotonic_positives = min_isotonic_positives
        self.negative_rate = negative_rate
        self.prefit_max_rows = prefit_max_rows
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_time: Any = None,
            sample_weight: Any = None) -> TimeCalibratedClassifier:
        """``sample_weight`` (optional) multiplies the subsampling weights, e.g. when the
        rows were already sampled upstream with known inclusion probabilities."""
        X, y = _check_fit_input(self, X, y)
        yb = (y == self.classes_[1]).astype(int)
        n = len(yb)
        t = np.arange(n) if sample_time is None else np.asarray(sample_time)
        if len(t) != n:
            raise ValueError(f"sample_time has {len(t)} values for {n} rows")
        idx, w = sample_negatives(yb, self.negative_rate, sample_weight, self.random_state)
        if len(idx) < n:
            X, yb, t = _rows(X, idx), yb[idx], t[idx]
        times = np.unique(t)
        k = max(1, int(round(self.calibration_share * len(times))))
        if len(times) < 2:
            raise ValueError("time-calibration needs at least two distinct sample times")
        k = min(k, len(times) - 1)
        self.calibration_from_ = times[-k]
        cal = t >= self.calibration_from_
        base = self.estimator if self.estimator is not None else default_lgbm(self.random_state)
        self.estimator_ = clone(base)
        sel = (lambda m: X.iloc[m]) if hasattr(X, "iloc") else (lambda m: X[m])
        if yb[~cal].sum() == 0 or yb[~cal].sum() == (~cal).sum():
            raise ValueError("the training slice before the calibration slice has one class only")
        pre, w_pre = self._prefit_rows(yb, ~cal, w)
        self.prefit_rows_ = len(pre)
        self.estimator_.fit(sel(pre), yb[pre], sample_weight=w_pre)
        raw = self.estimator_.predict_proba(sel(cal))[:, 1]
        self.calibrator_ = _fit_calibrator(raw, yb[cal], self.method, self.min_isotonic_positives,
                                           w[cal])
        self.method_ = type(self.calibrator_).__name__
        if self.refit:
            self.estimator_ = clone(base).fit(X, yb, sample_weight=w)
        return self

    def _prefit_rows(self, yb: np.ndarray, before: np.ndarray, w: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Rows (and weights) of the pre-fit: the slice ``before`` calibration, its negatives
        sampled down to ``prefit_max_rows`` rows when the final model is refitted anyway."""
        idx = np.flatnonzero(before)
        cap = self.prefit_max_rows
        if cap is None or not self.refit or len(idx) <= cap:
            return idx, w[idx]
        y = yb[idx]
        sub, w_sub = sample_negatives(y, negative_rate_for(y, cap), w[idx],
                                      self.random_state + 1)
        return idx[sub], w_sub

    def predict_raw(self, X: Any) -> np.ndarray:
        """The base model's uncalibrated score (for explanations and diagnostics)."""
        check_is_fitted(self, "calibrator_")
        return self.estimator_.predict_proba(_validate(self, X, reset=False))[:, 1]

    def predict_proba(self, X: Any) -> np.ndarray:
        raw = self.predict_raw(X)  # checks fitted-ness before touching the calibrator
        p = np.clip(self.calibrator_.predict(raw), 0.0, 1.0)
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        p = self.predict_proba(X)[:, 1]
        return self.classes_[(p >= 0.5).astype(int)]

    def __sklearn_tags__(self) -> Any:
        return _binary_tags(super().__sklearn_tags__())


class _Sigmoid:
    """Platt scaling on the logit of the raw score."""

    def __init__(self, a: float, b: float) -> None:
        self.a, self.b = a, b

    def predict(self, s: np.ndarray) -> np.ndarray:
        z = np.log(np.clip(s, 1e-9, 1 - 1e-9) / (1 - np.clip(s, 1e-9, 1 - 1e-9)))
        return 1.0 / (1.0 + np.exp(-(self.a * z + self.b)))


def _fit_calibrator(raw: np.ndarray, y: np.ndarray, method: str, min_pos: int,
                    weight: np.ndarray | None = None) -> Any:
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if method not in ("auto", "isotonic", "sigmoid"):
        raise ValueError(f"method must be auto, isotonic or sigmoid, got {method!r}")
    use_iso = method == "isotonic" or (method == "auto" and y.sum() >= min_pos)
    if use_iso:
        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
            raw, y, sample_weight=weight)
    z = np.log(np.clip(raw, 1e-9, 1 - 1e-9) / (1 - np.clip(raw, 1e-9, 1 - 1e-9)))
    if y.min() == y.max():  # degenerate slice: keep the raw scale, shifted to the slice rate
        return _Sigmoid(1.0, float(np.log((y.mean() + 1e-6) / (1 - y.mean() + 1e-6))))
    lr = LogisticRegression(C=1e4).fit(z.reshape(-1, 1), y, sample_weight=weight)
    return _Sigmoid(float(lr.coef_[0, 0]), float(lr.intercept_[0]))
