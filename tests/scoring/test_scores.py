"""Scores, classes, cells, clusters and movement: the rules partners read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from propensity.settings import load_settings
from scoring.scores import cells, clusters, movement, percentile_scores, score_class


def test_percentiles_are_monotone_bounded_and_tie_aware():
    rng = np.random.default_rng(0)
    p = rng.random(1000)
    s = percentile_scores(p)
    assert s.min() >= 0 and s.max() <= 100
    order = np.argsort(p)
    assert np.all(np.diff(s[order]) >= 0)
    # a quarter of the book lands in High (75-100)
    assert abs((s >= 75).mean() - 0.25) < 0.01
    tied = percentile_scores(np.array([0.1, 0.5, 0.5, 0.5, 0.9]))
    assert tied[1] == tied[2] == tied[3] == 50


def test_on_demand_percentile_uses_the_batch_reference():
    ref = np.linspace(0, 1, 101)
    assert percentile_scores(np.array([0.0, 0.5, 1.0]), ref).tolist() == [0, 50, 99]
    assert percentile_scores(np.array([2.0]), ref).tolist() == [100]


@pytest.mark.parametrize("score,cls", [(100, "High"), (75, "High"), (74, "Medium"),
                                       (55, "Medium"), (54, "Low"), (30, "Low"),
                                       (29, "Very low"), (0, "Very low"), (None, None)])
def test_class_boundaries(score, cls):
    assert score_class([score])[0] == cls


def test_cells_and_clusters_follow_the_matrix_and_the_configurable_map():
    intent = np.array(["High", "Medium", "Low", "Very low", None], dtype=object)
    fit = np.array(["High", "Very low", "Medium", "Low", "High"], dtype=object)
    c = cells(intent, fit)
    assert c.tolist() == ["A1", "B4", "C2", "D3", None]
    default = load_settings().scoring.clusters
    assert clusters(c, default).tolist() == ["Act now", "Evaluate", "Nurture", "Educate",
                                             "Not eligible"]
    custom = {**default, "B": "Act now"}
    assert clusters(c, custom)[1] == "Act now"
    with pytest.raises(ValueError, match="letters A-D"):
        load_settings(scoring={"clusters": {"A": "x"}})


def _row(cid, cell, fit, intent, reasons):
    return {"customer_id": cid, "product": "azure", "cell": cell, "fit_score": fit,
            "intent_score": intent, "intent_reasons": reasons}


def test_movement_says_how_and_why_the_cell_moved():
    now = pd.DataFrame([
        _row("a", "A1", 80, 90, ["seen on the web: hiring cloud engineers"]),
        _row("b", "C1", 80, 40, ["no Azure buying signal on the web"]),
        _row("c", "B2", 60, 60, ["x"]),
        _row("d", None, 60, None, ["not eligible: already owns Azure"]),
        _row("e", "D4", 10, 10, ["y"]),
    ])
    prev = pd.DataFrame([
        _row("a", "C1", 80, 40, ["old"]),
        _row("b", "A1", 80, 90, ["seen on the web: a security incident"]),
        _row("c", "B2", 61, 58, ["x"]),
        _row("d", "B2", 60, 60, ["z"]),
    ])
    m = movement(now, prev).set_index("customer_id")
    assert m.loc["a", "cell_change"] == "up"
    assert "intent up 40 to 90" in m.loc["a", "cell_change_reason"]
    assert "hiring cloud engineers" in m.loc["a", "cell_change_reason"]
    assert m.loc["b", "cell_change"] == "down"
    assert "security incident" in m.loc["b", "cell_change_reason"]
    assert m.loc["c", "cell_change"] == "same"
    assert m.loc["d", "cell_change"] == "left eligibility"
    assert m.loc["e", "cell_change"] == "new"
    assert movement(now, None)["cell_change"].eq("new").all()
