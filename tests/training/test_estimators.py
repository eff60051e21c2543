"""The custom estimators follow scikit-learn's contract and learn what they should."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss
from sklearn.utils.estimator_checks import parametrize_with_checks

from training.estimators import (
    PULookalikeClassifier,
    TimeCalibratedClassifier,
    default_lgbm,
    negative_rate_for,
)
from training.metrics import binary_metrics, capture_at

SMALL = default_lgbm(n_estimators=20, min_child_samples=2)


# Weighting a row by k is not the same as repeating it k times for a LightGBM-backed model
# (row bagging, and min_child_samples counts rows, not weight), nor for the PU holdout split.
WEIGHT_EQUIVALENCE = {"check_sample_weight_equivalence_on_dense_data":
                      "LightGBM bagging and min_child_samples count rows, not weights"}


@parametrize_with_checks([PULookalikeClassifier(estimator=SMALL),
                          TimeCalibratedClassifier(estimator=SMALL)],
                         expected_failed_checks=lambda est: WEIGHT_EQUIVALENCE)
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


@pytest.fixture(scope="module")
def timed():
    """24,000 rows over 12 times, a test set, and the uncapped, unsampled model on them."""
    X, y, t = _data(24000)
    Xt, yt, _ = _data(24000, seed=7)
    base = dict(estimator=default_lgbm(n_estimators=100), calibration_share=0.25)
    full = TimeCalibratedClassifier(**base).fit(X, y, sample_time=t)
    return X, y, t, Xt, yt, base, full


def test_negative_subsampling_keeps_probabilities_calibrated(timed):
    X, y, t, Xt, yt, base, full = timed
    sub = TimeCalibratedClassifier(**base, negative_rate=0.1).fit(X, y, sample_time=t)
    p_full, p_sub = full.predict_proba(Xt)[:, 1], sub.predict_proba(Xt)[:, 1]
    # a tenth of the negatives, weighted by 10: the full model's scale (both are calibrated
    # on the latest slice, whose rate is 0.107), and the same ranking quality
    assert abs(p_sub.mean() - p_full.mean()) < 0.012
    order = np.argsort(p_sub)
    for chunk in np.array_split(order, 5):
        assert abs(p_sub[chunk].mean() - yt[chunk].mean()) < 0.04
    assert binary_metrics(yt, p_sub)["auc"] > binary_metrics(yt, p_full)["auc"] - 0.02
    # without the weights the sample's base rate (several times higher) would show through
    Xs, ys, ts = _negatives_only(X, y, t, 0.1)
    unweighted = TimeCalibratedClassifier(**base).fit(Xs, ys, sample_time=ts)
    assert unweighted.predict_proba(Xt)[:, 1].mean() > 2 * yt.mean()
    # upstream sampling with its weights passed in gives the same calibration
    w = np.where(ys == 1, 1.0, 10.0)
    up = TimeCalibratedClassifier(**base).fit(Xs, ys, sample_time=ts, sample_weight=w)
    assert abs(up.predict_proba(Xt)[:, 1].mean() - p_full.mean()) < 0.012
    with pytest.raises(ValueError, match="negative_rate"):
        TimeCalibratedClassifier(negative_rate=0).fit(X, y, sample_time=t)


def test_capped_prefit_keeps_the_final_model_and_its_calibration(timed):
    X, y, t, Xt, yt, base, full = timed
    capped = TimeCalibratedClassifier(**base, prefit_max_rows=8000).fit(X, y, sample_time=t)
    # the pre-fit saw about 8,000 of the 18,000 rows before the calibration slice (as at 1M
    # companies: 200,000 of about 490,000), every buyer among them; the final model is the
    # same fit on every row, so the ranking is exactly the uncapped one
    assert full.prefit_rows_ == 18000 and 7500 < capped.prefit_rows_ < 8500
    np.testing.assert_allclose(capped.predict_raw(Xt), full.predict_raw(Xt))
    p_full, p_cap = full.predict_proba(Xt)[:, 1], capped.predict_proba(Xt)[:, 1]
    # a smaller pre-fit is a little less sharp, so its calibration map moves a little
    assert abs(p_cap.mean() - p_full.mean()) < 0.005
    assert brier_score_loss(yt, p_cap) < brier_score_loss(yt, p_full) + 0.0005
    # without a refit the pre-fit is the final model: the cap does not apply
    once = TimeCalibratedClassifier(**base, refit=False, prefit_max_rows=8000).fit(
        X, y, sample_time=t)
    assert once.prefit_rows_ == 18000


def test_negative_rate_for_a_row_cap():
    y = np.r_[np.ones(100, int), np.zeros(900, int)]
    assert negative_rate_for(y, 2000) == 1.0
    assert negative_rate_for(y, 550) == pytest.approx(450 / 900)
    assert negative_rate_for(y, 150) == pytest.approx(100 / 900)  # as many negatives as buyers
    with pytest.raises(ValueError, match="max_rows"):
        negative_rate_for(y, 0)


def test_pu_negative_subsampling_keeps_ranking_and_scale():
    X, y, _ = _data(24000)
    rng = np.random.default_rng(1)
    s = ((y == 1) & (rng.random(len(y)) < 0.33)).astype(int)
    full = PULookalikeClassifier(estimator=default_lgbm(n_estimators=100)).fit(X, s)
    sub = PULookalikeClassifier(estimator=default_lgbm(n_estimators=100),
                                negative_rate=0.2).fit(X, s)
    pf, ps = full.predict_proba(X)[:, 1], sub.predict_proba(X)[:, 1]
    hidden = (y == 1) & (s == 0)
    assert binary_metrics(hidden[s == 0], ps[s == 0])["auc"] > 0.8
    assert abs(ps.mean() - pf.mean()) < 0.3 * pf.mean()  # the weights keep the scale


def _negatives_only(X, y, t, rate):
    keep = (y == 1) | (np.random.default_rng(3).random(len(y)) < rate)
    return X[keep], y[keep], t[keep]


def test_intent_parameters_layer_defaults_settings_and_book_size():
    from propensity.settings import load_settings
    from training.estimators import INTENT_LGBM
    from training.train import intent_params

    s = load_settings(lake="/nonexistent")
    assert intent_params(s) == INTENT_LGBM
    # a leaf needs at most 1% of the rows (at least 20): small books and rare products split
    assert intent_params(s, 100_000)["min_child_samples"] == INTENT_LGBM["min_child_samples"]
    assert intent_params(s, 4_000)["min_child_samples"] == 40
    assert intent_params(s, 500)["min_child_samples"] == 20
    s2 = load_settings(lake="/nonexistent", training={"lgbm": {"num_leaves": 31},
                                                      "intent_lgbm": {"n_estimators": 50}})
    p = intent_params(s2)
    assert p["num_leaves"] == 31 and p["n_estimators"] == 50  # settings win over defaults
    assert p["reg_lambda"] == INTENT_LGBM["reg_lambda"]
