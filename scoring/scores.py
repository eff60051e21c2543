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

import copy
import logging
from collections.abc import Callable, Iterator, Mapping
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


class _Prepared:
    """One frame of rows encoded for the models, each column once per category list.

    Every pipeline starts with its own preparer (:class:`training.prep.FramePreparer`);
    the 18 models share most columns, so a column is encoded by the first preparer that
    needs it (through that preparer's own ``transform``, on that column only) and reused by
    every other one with the same categories. The frames handed out equal
    ``prep.transform(rows)`` column for column.
    """

    def __init__(self, X: pd.DataFrame) -> None:
        self.X = X
        self.cols: dict[tuple[str, tuple[str, ...] | None], Any] = {}

    def frame(self, pipe: Any, mask: np.ndarray | None = None) -> pd.DataFrame:
        prep = pipe.named_steps["prep"]
        names = list(prep.feature_names_in_)
        cats = prep.categories_
        keys = [(c, tuple(cats[c]) if c in cats else None) for c in names]
        need = [k[0] for k in keys if k not in self.cols]
        if need:
            sub = copy.copy(prep)
            sub.feature_names_in_ = np.asarray(need, dtype=object)
            T = sub.transform(self.X)
            for c in need:
                col = T[c]
                self.cols[(c, tuple(cats[c]) if c in cats else None)] = \
                    col.array if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
        if mask is None:
            return pd.DataFrame({c: self.cols[k] for c, k in zip(names, keys, strict=True)},
                                index=self.X.index)
        idx = self.X.index[mask]
        return pd.DataFrame({c: self.cols[k][mask] for c, k in zip(names, keys, strict=True)},
                            index=idx)


def _predict(pipe: Any, X: _Prepared, batch: int, mask: np.ndarray | None = None
             ) -> np.ndarray:
    """Calibrated probabilities of ``X``'s rows (those in ``mask``), in batches."""
    model = pipe.named_steps["model"]
    Xp = X.frame(pipe, mask)
    probs = [model.predict_proba(Xp.iloc[start:start + batch])[:, 1]
             for start in range(0, len(Xp), batch)]
    return np.concatenate(probs) if probs else np.zeros(0)


def _contributions(pipe: Any, X: _Prepared, batch: int, method: str,
                   mask: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Per-row contributions (float32, no bias column) of the pipeline's LightGBM booster.

    ``method`` "path" walks each row's decision paths (:mod:`scoring.attribution`),
    "treeshap" asks LightGBM for exact SHAP values (``pred_contrib``).
    """
    from scoring.attribution import path_model

    names = list(pipe.named_steps["prep"].feature_names_in_)
    booster = pipe.named_steps["model"].estimator_.booster_
    Xp_all = X.frame(pipe, mask)
    out = np.empty((len(Xp_all), len(names)), np.float32)
    for start in range(0, len(Xp_all), batch):
        Xp = Xp_all.iloc[start:start + batch]
        if method == "path":
            out[start:start + len(Xp)] = path_model(booster).contributions(Xp)
        elif method == "treeshap":
            c = booster.predict(Xp, pred_contrib=True)
            out[start:start + len(Xp)] = np.asarray(c, dtype=np.float32)[:, :-1]
        else:
            raise ValueError(f"unknown attribution {method!r}: use path or treeshap")
    return out, names


def predict_probabilities(features: pd.DataFrame, models: Mapping[str, Mapping[str, Any]],
                          settings: Settings) -> dict[str, dict[str, np.ndarray]]:
    """Every model's probability for every row: ``{product: {"fit": p, "intent": p}}``.

    ``intent`` is NaN where the row is not eligible for the product (or there is no intent
    model). One prediction per model and row, ``batch_rows`` rows at a time with their
    columns encoded once for all models; :func:`score_chunks` takes its reference
    distributions from these and passes each chunk its slice.
    """
    batch = settings.scoring.batch_rows
    n = len(features)
    out: dict[str, dict[str, np.ndarray]] = {}
    for product, pair in models.items():
        if pair.get("fit") is None:
            raise ValueError(f"no fit model for {product}")
        out[product] = {"fit": np.full(n, np.nan), "intent": np.full(n, np.nan)}
    for start in range(0, n, batch):
        rows = features.iloc[start:start + batch]
        prepared = _Prepared(rows)
        for product, pair in models.items():
            fit_pipe, intent_pipe = pair.get("fit"), pair.get("intent")
            out[product]["fit"][start:start + len(rows)] = _predict(fit_pipe, prepared, batch)
            if intent_pipe is not None:
                elig = eligible_mask(rows, product)
                if elig.any():
                    p = np.full(len(rows), np.nan)
                    p[elig] = _predict(intent_pipe, prepared, batch, elig)
                    out[product]["intent"][start:start + len(rows)] = p
    return out


def score_chunks(features: pd.DataFrame, models: Mapping[str, Mapping[str, Any]],
                 settings: Settings, *, month: str, signals: pd.DataFrame | None = None,
                 previous: pd.DataFrame | None = None,
                 versions: Mapping[str, Mapping[str, str]] | None = None,
                 deal_size: Mapping[tuple[str, str], float] | None = None,
                 reasons: bool = True, chunk_rows: int | None = None,
                 progress: Callable[[str], None] | None = None) -> Iterator[pd.DataFrame]:
    """:func:`score_frame` over ``chunk_rows`` rows at a time, with the whole frame's meaning.

    Every row's probabilities come first (:func:`predict_probabilities`), and the frame's
    distributions of them are the :class:`Reference` every chunk is scored against, so the
    chunks together hold exactly the rows and values of one ``score_frame`` call over the
    whole frame (ordered chunk by chunk, then product) while only one chunk's reasons and
    contributions are in memory at a time. Yields one scores frame per chunk.
    """
    chunk = chunk_rows or settings.scoring.chunk_rows
    probs = predict_probabilities(features, models, settings)
    if progress:
        progress("probabilities")
    reference = Reference(
        fit={p: v["fit"] for p, v in probs.items()},
        intent={p: v["intent"][~np.isnan(v["intent"])] for p, v in probs.items()})
    evidence = R.Evidence(signals, month) if reasons else None
    prev = previous
    if prev is not None and not prev.empty:
        prev = prev.assign(customer_id=prev["customer_id"].astype(str))
    for start in range(0, len(features), chunk):
        part = features.iloc[start:start + chunk]
        ids = part["customer_id"].astype(str)
        p_prev = None if prev is None else prev[prev["customer_id"].isin(ids)]
        yield score_frame(
            part, models, settings, month=month, previous=p_prev, versions=versions,
            deal_size=deal_size, reference=reference, reasons=reasons, evidence=evidence,
            probabilities={p: {k: v[start:start + chunk] for k, v in pv.items()}
                           for p, pv in probs.items()})
        if progress:
            progress(f"rows {start + len(part)}")


def score_frame(features: pd.DataFrame, models: Mapping[str, Mapping[str, Any]],
                settings: Settings, *, month: str, signals: pd.DataFrame | None = None,
                previous: pd.DataFrame | None = None,
                versions: Mapping[str, Mapping[str, str]] | None = None,
                deal_size: Mapping[tuple[str, str], float] | None = None,
                reference: Reference | None = None, reasons: bool = True,
                progress: Callable[[str], None] | None = None,
                probabilities: Mapping[str, Mapping[str, np.ndarray]] | None = None,
                evidence: R.Evidence | None = None) -> pd.DataFrame:
    """Score every row of ``features`` (one month's table) for every product in ``models``.

    ``models[product]`` holds fitted pipelines under ``"fit"`` and ``"intent"`` (intent may
    be None: every row is then not eligible). ``signals`` (the month's evidence, see
    :func:`scoring.reasons.strongest_signals`) lets intent reasons name what was seen, when
    and where. ``previous`` (last month's scores) gives the cell movement. ``reference``
    places scores against a batch distribution instead of this frame (on-demand scoring).
    ``probabilities`` (from :func:`predict_probabilities` on these rows) and ``evidence``
    (built from ``signals``) skip recomputing them (:func:`score_chunks` passes both).
    Reasons come from the contributions ``settings.scoring.attribution`` names.
    Returns the :data:`propensity.contracts.SCORES` columns, one row per customer x product.
    """
    versions = versions or {}
    deal_size = dict(deal_size or {(p, s): float(v) for p, by in
                                   settings.scoring.deal_size_usd.items() for s, v in by.items()})
    batch = settings.scoring.batch_rows
    method = settings.scoring.attribution
    n_reasons = settings.scoring.reasons
    ids = features["customer_id"].astype(str).to_numpy()
    subseg = features.get("firm_subsegment", pd.Series("Medium", index=features.index))
    subseg = subseg.astype(str).to_numpy()
    explainer = R.Explainer(features, signals, month, evidence) if reasons else None
    prepared = _Prepared(features)
    parts = []
    for product, pair in models.items():
        C.check_product(product)
        fit_pipe, intent_pipe = pair.get("fit"), pair.get("intent")
        if fit_pipe is None:
            raise ValueError(f"no fit model for {product}")
        given = probabilities.get(product) if probabilities is not None else None
        fit_p = given["fit"] if given is not None else _predict(fit_pipe, prepared, batch)
        fit_c, fit_names = _contributions(fit_pipe, prepared, batch, method) if reasons \
            else (None, [])
        fit_ref = reference.fit.get(product) if reference else None
        fit_score = percentile_scores(fit_p, fit_ref)
        fit_class = score_class(fit_score)

        elig = eligible_mask(features, product) if intent_pipe is not None else \
            np.zeros(len(features), bool)
        prob = np.full(len(features), np.nan)
        intent_score = np.full(len(features), None, dtype=object)
        int_c, int_names = None, []
        if elig.any():
            p_e = given["intent"][elig] if given is not None else \
                _predict(intent_pipe, prepared, batch, elig)
            if reasons:
                int_c, int_names = _contributions(intent_pipe, prepared, batch, method, elig)
            prob[elig] = p_e
            ref = reference.intent.get(product) if reference else None
            intent_score[elig] = percentile_scores(p_e, ref)
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
            out["fit_reasons"] = _objects(fr.reasons)
            ir_reasons = np.empty(len(features), dtype=object)
            ir_reasons[:] = _objects([["not eligible: " + R.not_eligible_reason(product)]]
                                     * len(features))
            url = np.full(len(features), None, dtype=object)
            date = np.full(len(features), None, dtype=object)
            if elig.any():
                rows = np.flatnonzero(elig)
                er = explainer.explain(product, "intent", int_c, int_names, rows, n_reasons,
                                       high=intent_score[rows].astype(float) >= 50)
                ir_reasons[rows] = _objects(er.reasons)
                url[rows], date[rows] = er.url, er.date
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


def _objects(items: list[Any]) -> np.ndarray:
    """A 1-d object array of ``items`` (lists stay list objects, never a 2-d array)."""
    out = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        out[i] = x
    return out


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
