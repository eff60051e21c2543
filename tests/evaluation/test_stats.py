"""Intervals, PSI and calibration: the statistics every figure of the report rests on."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.stats import (
    auc_interval,
    calibration_table,
    capture_interval,
    expected_calibration_error,
    psi,
    psi_level,
    wilson,
)


def test_wilson_matches_known_values() -> None:
    # Reference values (Newcombe 1998, table I): 0/10 and 5/10 at 95%
    iv = wilson(0, 10)
    assert iv.value == 0 and iv.low == 0 and iv.high == pytest.approx(0.2775, abs=1e-4)
    iv = wilson(5, 10)
    assert (iv.low, iv.high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert wilson(81, 263).low == pytest.approx(0.2553, abs=1e-3)


def test_wilson_narrows_with_volume_and_handles_empty() -> None:
    small, large = wilson(10, 100), wilson(1000, 10000)
    assert large.high - large.low < small.high - small.low
    assert np.isnan(wilson(0, 0).value)
    assert wilson(3, 3).high == 1.0


def test_auc_interval_contains_the_estimate_and_shrinks() -> None:
    a = auc_interval(0.75, 20, 200)
    b = auc_interval(0.75, 200, 2000)
    assert a.low < 0.75 < a.high and b.low < 0.75 < b.high
    assert b.high - b.low < a.high - a.low
    assert np.isnan(auc_interval(float("nan"), 10, 10).value)


def test_capture_interval_counts_buyers_in_the_top_tenth() -> None:
    y = np.zeros(100, bool)
    y[:5] = True  # five buyers with the highest scores
    y[50:55] = True  # five further down
    iv = capture_interval(-np.arange(100), y)
    assert iv.value == pytest.approx(0.5)
    assert iv.low < 0.5 < iv.high


def test_psi_is_zero_on_the_same_sample_and_grows_with_shift() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=5000)
    assert psi(ref, ref) == pytest.approx(0.0, abs=1e-9)
    assert psi(ref, rng.normal(size=5000)) < 0.02
    moderate, shifted = psi(ref, rng.normal(0.4, size=5000)), psi(ref, rng.normal(1.5, size=5000))
    assert 0.1 < moderate < shifted and shifted > 0.25
    assert psi_level(moderate, 0.1, 0.25) == "moderate" and psi_level(shifted, 0.1, 0.25) == "shifted"


def test_psi_sees_a_column_that_starts_arriving_empty() -> None:
    ref = np.arange(1000, dtype=float)
    cur = ref.copy()
    cur[:600] = np.nan
    assert psi(ref, cur) > 0.25
    assert np.isnan(psi(np.array([]), ref))


def test_calibration_of_a_calibrated_score_is_close_to_the_diagonal() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 0.3, 20000)
    y = rng.random(20000) < p
    t = calibration_table(y, p)
    assert len(t) == 10 and t["rows"].sum() == 20000
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, p * 2) > 0.05
