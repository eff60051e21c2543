"""From fitted models and one month's feature table to the ``scores`` table.

What a score means (documented here because partners read it):

- ``fit_score`` is the percentile (0-100) of the lookalike probability among every customer
  scored that month: 80 means the customer looks more like the product's best customers
  than 80% of the book.
- ``intent_score`` is the percentile (0-100) of the calibrated 3-month purchase probability
  among the customers *eligible* for the product that month (owners cannot buy it again;
  see :mod:`propensity.products`). The probability itself is exported beside it.
- A customer scored on demand (not in the batch) is placed against the batch month's
  reference distribution, so its score means the same thing.

Classes, cells and clusters follow DESIGN.md: High 75-100, Medium 55-74, Low 30-54, Very
low 0-29; cell = intent letter (A..D) + fit digit (1..4); cluster by letter, configurable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from propensity import contracts as C
from propensity.products import eligible_mask
from propensity.settings import Settings
from scoring import reasons as R

log = logging.getLogger(__name__)

CLASS_FLOORS: tuple[tuple[int, str], ...] = ((75, "High"), (55, "Medium"), (30, "Low"),
                                             (0, "Very low"))
LETTERS = {"High": "A", "Medium": "B", "Low": "C", "Very low": "D"}
DIGITS = {"High": "1", "Medium": "2", "Low": "3", "Very low": "4"}


def score_class(score: Any) -> np.ndarray:
    """Class of each 0-100 score (None where the score is missing)."""
    s = pd.to_numeric(pd.Series(np.asarray(score, dtype=object)), errors="coerce").to_numpy(float)
    out = np.full(len(s), None, dtype=object)
    for floor, name in reversed(CLASS_FLOORS):
        out[s >= floor] = name
    return out


def percentile_scores(prob: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Integer 0-100: the mid-rank percentile of each ``prob`` within ``reference``.

    ``reference`` defaults to ``prob`` itself (the batch). Ties share one score; the mid-rank
    keeps a large group of equal probabilities in the middle of their range rather than at
    its top.
    """
    prob = np.asarray(prob, float)
    ref = np.sort(np.asarray(prob if reference is None else reference, float))
    ref = ref[~np.isnan(ref)]
    if len(ref) == 0:
        return np.zeros(len(prob), dtype=np.int64)
    lo = np.searchsorted(ref, prob, side="left")
    hi = np.searchsorted(ref, prob, side="right")
    pct = (lo + hi) / 2.0 / len(ref)
    return np.clip(np.floor(pct * 100), 0, 100).astype(np.int64)


def cells(intent_class: np.ndarray, fit_class: np.ndarray) -> np.ndarray:
    """Matrix cell: intent letter + fit digit (None where intent is missing)."""
    letter = pd.Series(intent_class, dtype=object).map(LETTERS)
    digit = pd.Series(fit_class, dtype=object).map(DIGITS)
    cell = letter + digit
    return np.where(cell.notna(), cell.to_numpy(dtype=object), None)


def clusters(cell: np.ndarray, mapping: Mapping[str, str]) -> np.ndarray:
    """Cluster of each cell by its letter; ``NOT_ELIGIBLE`` where there is no cell."""
    letter = pd.Series(cell, dtype=object).str[0]
    return letter.map(dict(mapping)).fillna(C.NOT_ELIGIBLE).to_numpy(dtype=object)


def cell_rank(cell: str | None) -> tuple[int, int] | None:
    """Sortable (letter, digit) of a cell, smaller is better; None for no cell."""
    if not isinstance(cell, str) or not cell:
        return None
    return ("ABCD".index(cell[0]), int(cell[1]))


# --------------------------------------------------------------------------------------
# Deal sizes
# --------------------------------------------------------------------------------------


def deal_sizes(opportunities: pd.DataFrame | None, companies: pd.DataFrame, month: str,
               settings: Settings) -> dict[tuple[str, str], float]:
    """Deal size per (product, subsegment): median won amount before the cut-off, else default.

    Reads won opportunities closed in the lookback window before ``month``'s cut-off (never
    after it); a (product, subsegment) with fewer than ``deal_size_min_wins`` wins falls back
    to the settings' default.
    """
    from propensity.months import add_months, cutoff

    sc = settings.scoring
    out = {(p, s): float(v) for p, by in sc.deal_size_usd.items() for s, v in by.items()}
    if opportunities is None or opportunities.empty:
        return out
    lo = pd.Timestamp(cutoff(add_months(month, -sc.deal_size_lookback_months)))
    hi = pd.Timestamp(cutoff(month))
    o = opportunities[opportunities["outcome"] == "won"].copy()
    o["closed_at"] = pd.to_datetime(o["closed_at"])
    o = o[(o["closed_at"] >= lo) & (o["closed_at"] < hi)]
    o = o.merge(companies[["customer_id", "subsegment"]], on="customer_id", how="inner")
    for (p, s), g in o.groupby(["product", "subsegment"]):
        if len(g) >= sc.deal_size_min_wins:
            out[(str(p), str(s))] = float(g["amount_usd"].median())
    return out


# --------------------------------------------------------------------------------------
# Scoring a frame
# --------------------------------------------------------------------------------------


@dataclass
class Reference:
    """The batch distributions an on-demand score is placed against (per product)."""

    fit: dict[str, np.ndarray]
    intent: dict[str, np.ndarray]

    @classmethod
    def from_scores(cls, scores: pd.DataFrame) -> Reference:
        fit = {p: g["fit_probability"].to_numpy(float) for p, g in scores.groupby("product")}
        intent = {p: g["probability"].dropna().to_numpy(float)
                  for p, g in scores.groupby("product")}
        return cls(fit, intent)


def _model_proba(pipe: Any, X: pd.DataFrame, want_contrib: bool, batch: int
                 ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Probabilities and (optionally) LightGBM per-row contributions, in batches."""
    prep, model = pipe.named_steps["prep"], pipe.named_steps["model"]
    names = list(prep.feature_names_in_)
    probs, contribs = [], []
    for start in range(0, len(X), batch):
        Xp = prep.transform(X.iloc[start:start + batch])
        probs.append(model.predict_proba(Xp)[:, 1])
        if want_contrib:
            booster = model.estimator_.booster_
            c = booster.predict(Xp, pred_contrib=True)
            contribs.append(np.asarray(c, dtype=np.float32)[:, :-1])  # drop the bias column
    if not probs:
        return np.zeros(0), (np.zeros((0, len(names)), np.float32) if want_contrib else None), names
    return (np.concatenate(probs), np.vstack(contribs) if want_contrib else None, names)


def score_frame(features: pd.DataFrame, models: Mapping[str, Mapping[str, Any]],
                settings: Settings, *, month: str, signals: pd.DataFrame | None = None,
                previous: pd.DataFrame | None = None,
                versions: Mapping[str, Mapping[str, str]] | None = None,
                deal_size: Mapping[tuple[str, str], float] | None = None,
                reference: Reference | None = None, reasons: bool = True,
                progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Score every row of ``features`` (one month's table) for every product in ``models``.

    ``models[product]`` holds fitted pipelines under ``"fit"`` and ``"intent"`` (intent may
    be None: every row is then not eligible). ``signals`` (the month's evidence, see
    :func:`scoring.evidence.strongest_signals`) lets intent reasons name what was seen, when
    and where. ``previous`` (last month's scores) gives the cell movement. ``reference``
    places scores against a batch distribution instead of this frame (on-demand scoring).
    Returns the :data:`propensity.contracts.SCORES` columns, one row per customer x product.
    """
    versions = versions or {}
    deal_size = dict(deal_size or {(p, s): float(v) for p, by in
                                   settings.scoring.deal_size_usd.items() for s, v in by.items()})
    batch = settings.scoring.batch_rows
    n_reasons = settings.scoring.reasons
    ids = features["customer_id"].astype(str).to_numpy()
    subseg = features.get("firm_subsegment", pd.Series("Medium", index=features.index))
    subseg = subseg.astype(str).to_numpy()
    explainer = R.Explainer(features, signals, month) if reasons else None
    parts = []
    for product, pair in models.items():
        C.check_product(product)
        fit_pipe, intent_pipe = pair.get("fit"), pair.get("intent")
        if fit_pipe is None:
            raise ValueError(f"no fit model for {product}")
        fit_p, fit_c, fit_names = _model_proba(fit_pipe, features, reasons, batch)
        fit_ref = reference.fit.get(product) if reference else None
        fit_score = percentile_scores(fit_p, fit_ref)
        fit_class = score_class(fit_score)

        elig = eligible_mask(features, product) if intent_pipe is not None else \
            np.zeros(len(features), bool)
        prob = np.full(len(features), np.nan)
        intent_score = np.full(len(features), None, dtype=object)
        int_c, int_names = None, []
        if elig.any():
            p_e, c_e, int_names = _model_proba(intent_pipe, features[elig], reasons, batch)
            prob[elig] = p_e
            ref = reference.intent.get(product) if reference else None
            intent_score[elig] = percentile_scores(p_e, ref)
            int_c = c_e
        intent_class = score_class(intent_score)
        intent_class[~elig] = None
        cell = cells(intent_class, fit_class)
        cluster = clusters(cell, settings.scoring.clusters)

        if product == "renewal":
            size = pd.to_numeric(features.get("agr_due_revenue_90d_usd",
                                              pd.Series(np.nan, index=features.index)),
                                 errors="coerce").to_numpy(float)
            fallback = np.array([deal_size.get((product, s), 0.0) for s in subseg])
            size = np.where(np.isnan(size) | (size <= 0), fallback, size)
        else:
            size = np.array([deal_size.get((product, s), 0.0) for s in subseg])
        expected = np.where(elig, np.nan_to_num(prob) * size, 0.0)

        out = pd.DataFrame({
            "month": month, "customer_id": ids, "product": product, "eligible": elig,
            "fit_probability": fit_p, "fit_score": fit_score, "fit_class": fit_class,
            "probability": np.where(elig, prob, np.nan),
            "intent_score": pd.array(intent_score, dtype="Int64"),
            "intent_class": intent_class, "cell": cell, "cluster": cluster,
            "deal_size_usd": size, "expected_revenue_usd": expected,
        })
        if explainer is not None:
            fr = explainer.explain(product, "fit", fit_c, fit_names, np.arange(len(features)),
                                   n_reasons, high=fit_score >= 50)
            out["fit_reasons"] = fr.reasons
            ir_reasons = [["not eligible: " + R.not_eligible_reason(product)]] * len(features)
            url = np.full(len(features), None, dtype=object)
            date = np.full(len(features), None, dtype=object)
            top_keys = np.full(len(features), None, dtype=object)
            if elig.any():
                rows = np.flatnonzero(elig)
                er = explainer.explain(product, "intent", int_c, int_names, rows, n_reasons,
                                       high=intent_score[rows].astype(float) >= 50)
                for j, i in enumerate(rows):
                    ir_reasons[i] = er.reasons[j]
                url[rows], date[rows] = er.url, er.date
                top_keys[rows] = er.top
            out["intent_reasons"] = ir_reasons
            out["evidence_url"], out["evidence_date"] = url, date
        else:
            out["fit_reasons"] = [[] for _ in range(len(out))]
            out["intent_reasons"] = [[] for _ in range(len(out))]
            out["evidence_url"], out["evidence_date"] = None, None
        v = versions.get(product, {})
        out["fit_model_version"] = str(v.get("fit", ""))
        out["intent_model_version"] = v.get("intent") if intent_pipe is not None else None
        parts.append(out)
        if progress:
            progress(product)
    scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=C.SCORES.column_names)
    scores = movement(scores, previous)
    return scores[list(C.SCORES.column_names)]


def movement(scores: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``previous_cell``, ``cell_change`` and ``cell_change_reason`` from last month."""
    scores = scores.copy()
    if previous is None or previous.empty:
        scores["previous_cell"] = None
        scores["cell_change"] = "new"
        scores["cell_change_reason"] = "first month scored"
        return scores
    prev = previous[["customer_id", "product", "cell", "fit_score", "intent_score",
                     "intent_reasons"]].rename(columns={
                         "cell": "previous_cell", "fit_score": "prev_fit",
                         "intent_score": "prev_intent", "intent_reasons": "prev_reasons"})
    m = scores.merge(prev, on=["customer_id", "product"], how="left", indicator="was_scored")
    change, why = [], []
    for row in m.itertuples(index=False):
        c, w = _move(row)
        change.append(c)
        why.append(w)
    m["cell_change"], m["cell_change_reason"] = change, why
    return m.drop(columns=["prev_fit", "prev_intent", "prev_reasons", "was_scored"])


def _move(r: Any) -> tuple[str, str]:
    if r.was_scored == "left_only":
        return "new", "not scored last month"
    now, before = cell_rank(r.cell), cell_rank(r.previous_cell)
    fit_txt = _delta("fit", r.prev_fit, r.fit_score)
    if now is None and before is None:
        return "same", "still not eligible"
    if now is None:
        return "left eligibility", f"no longer eligible ({r.intent_reasons[0]})" \
            if len(r.intent_reasons) else "no longer eligible"
    if before is None:
        return "entered eligibility", "became eligible this month"
    int_txt = _delta("intent", r.prev_intent, r.intent_score)
    if now == before:
        return "same", f"{int_txt}; {fit_txt}: no class changed"
    up = now < before
    if up:
        lead = r.intent_reasons[0] if len(r.intent_reasons) else ""
        detail = f": {lead}" if now[0] < before[0] and lead else ""
        return "up", f"{r.previous_cell} to {r.cell}: {int_txt}; {fit_txt}{detail}"
    gone = r.prev_reasons[0] if isinstance(r.prev_reasons, list | np.ndarray) and \
        len(r.prev_reasons) else ""
    detail = f": last month's lead reason was '{gone}'" if now[0] > before[0] and gone else ""
    return "down", f"{r.previous_cell} to {r.cell}: {int_txt}; {fit_txt}{detail}"


def _delta(what: str, before: Any, now: Any) -> str:
    try:
        b, n = int(before), int(now)
    except (TypeError, ValueError):
        return f"{what} {now}"
    if b == n:
        return f"{what} unchanged at {n}"
    return f"{what} {'up' if n > b else 'down'} {b} to {n}"
