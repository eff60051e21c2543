"""The custom estimators follow scikit-learn's contract and learn what they should."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from training.estimators import PULookalikeClassifier, TimeCalibratedClassifier, default_lgbm
from training.metrics import binary_metrics, capture_at

SMALL = default_lgbm(n_estimators=20, min_child_samples=2)


@parametrize_with_checks([PULookalikeClassifier(estimator=SMALL),
                          TimeCalibratedClassifier(estimator=SMALL)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n: int = 6000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    logit = -3.0 + 1.5 * X[:, 0] - 1.0 * X[:, 1]
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    t = np.repeat(np.arange(12), n // 12)
    return X, y.astype(int), t


def test_pu_lookalike_ranks_hidden_positives():
    X, y, _ = _data()
    # only a third of the positives are labelled; the rest hide among the unlabeled
    rng = np.random.default_rng(1)
    s = (y == 1) & (rng.random(len(y)) < 0.33)
    est = PULookalikeClassifier(estimator=default_lgbm(n_estimators=100)).fit(X, s.astype(int))
    p = est.predict_proba(X)[:, 1]
    assert 0 < est.c_ <= 1 and p.min() >= 0 and p.max() <= 1
    hidden = (y == 1) & ~s
    m = binary_metrics(hidden[~s], p[~s])
    assert m["auc"] > 0.8  # it finds the unlabeled positives among the unlabeled


def test_time_calibration_is_calibrated_and_out_of_time():
    X, y, t = _data(12000)
    est = TimeCalibratedClassifier(estimator=default_lgbm(n_estimators=100),
                                   calibration_share=0.25).fit(X, y, sample_time=t)
    assert est.calibration_from_ == 9  # the latest quarter of the 12 times
    Xt, yt, _ = _data(12000, seed=7)
    p = est.predict_proba(Xt)[:, 1]
    assert p.min() >= 0 and p.max() <= 1
    # calibrated: mean prediction close to the observed rate, per decile too
    assert abs(p.mean() - yt.mean()) < 0.01
    order = np.argsort(p)
    for chunk in np.array_split(order, 5):
        assert abs(p[chunk].mean() - yt[chunk].mean()) < 0.04
    assert binary_metrics(yt, p)["auc"] > 0.8 and capture_at(p, yt) > 0.3
    with pytest.raises(ValueError, match="two distinct sample times"):
        TimeCalibratedClassifier().fit(X, y, sample_time=np.zeros(len(y)))
