"""Drift between consecutive months: scores, top features, crawler coverage and label delay.

Every function here is a table -> table computation or a read-only DuckDB query over the
lake; nothing is written. Fit and intent *scores* are percentiles within their month, so
their distribution is uniform by construction and their PSI says nothing: score drift is
measured on the calibrated ``probability`` and on ``fit_probability`` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.stats import psi, psi_level
from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months, cutoff, month_index
from propensity.settings import EvaluationSettings

log = logging.getLogger(__name__)

#: Signals published this many days before a cut-off count as the company's recent signals.
RECENT_DAYS = 90


@dataclass
class Flag:
    """A threshold crossed, in words the report prints."""

    area: str  # scores, features, coverage, labels
    month: str
    subject: str
    value: float
    threshold: float
    message: str


def score_psi(scores: pd.DataFrame, settings: EvaluationSettings,
              columns: Sequence[str] = ("probability", "fit_probability")) -> pd.DataFrame:
    """PSI of score columns per product between each month and the month before it.

    ``scores``: rows of the SCORES contract (at least month, product, eligible and
    ``columns``) for several months. ``probability`` is compared over eligible rows only.
    Returns month, previous, product, column, psi, level.
    """
    rows = []
    months = sorted(scores["month"].unique())
    for prev, cur in zip(months, months[1:], strict=False):
        a, b = scores[scores["month"] == prev], scores[scores["month"] == cur]
        for product in sorted(set(a["product"]) & set(b["product"])):
            pa_, pb = a[a["product"] == product], b[b["product"] == product]
            for col in columns:
                if col not in pa_.columns:
                    continue
                x, y = pa_, pb
                if col == "probability" and "eligible" in pa_.columns:
                    x, y = pa_[pa_["eligible"].astype(bool)], pb[pb["eligible"].astype(bool)]
                v = psi(x[col].to_numpy(float), y[col].to_numpy(float))
                rows.append({"month": cur, "previous": prev, "product": product, "column": col,
                             "psi": v, "level": psi_level(v, settings.psi_warn,
                                                          settings.psi_alert)})
    return pd.DataFrame(rows, columns=["month", "previous", "product", "column", "psi", "level"])


def feature_psi(frames: dict[str, pd.DataFrame], columns: Sequence[str],
                settings: EvaluationSettings) -> pd.DataFrame:
    """PSI of each feature in ``columns`` between consecutive months of ``frames``.

    ``frames`` maps month -> feature table (one row per customer). Non-numeric columns are
    compared on their category shares. Returns month, previous, feature, psi, level.
    """
    rows = []
    months = sorted(frames)
    for prev, cur in zip(months, months[1:], strict=False):
        a, b = frames[prev], frames[cur]
        for col in columns:
            if col not in a.columns or col not in b.columns:
                continue
            v = _column_psi(a[col], b[col])
            rows.append({"month": cur, "previous": prev, "feature": col, "psi": v,
                         "level": psi_level(v, settings.psi_warn, settings.psi_alert)})
    return pd.DataFrame(rows, columns=["month", "previous", "feature", "psi", "level"])


def _column_psi(a: pd.Series, b: pd.Series, eps: float = 1e-4) -> float:
    if pd.api.types.is_bool_dtype(a) or pd.api.types.is_numeric_dtype(a):
        return psi(a.astype(float).to_numpy(), b.astype(float).to_numpy())
    ra = a.astype(str).value_counts(normalize=True)
    rb = b.astype(str).value_counts(normalize=True)
    idx = ra.index.union(rb.index)
    ra = np.maximum(ra.reindex(idx).fillna(0).to_numpy(), eps)
    rb = np.maximum(rb.reindex(idx).fillna(0).to_numpy(), eps)
    return float(np.sum((rb - ra) * np.log(rb / ra)))


def _duck():
    import duckdb

    return duckdb.connect()


def crawler_coverage(lake: Lake, months: Sequence[str]) -> pd.DataFrame:
    """How well the crawl covers the book, per month.

    For the crawl of month M (``signals/month=M`` and every earlier partition, deduplicated
    by signal_id, as the feature builder sees them): companies in raw/companies, signals of
    the crawl, recent signals (published in the 90 days before M's cut-off) resolved to a
    known company, recent signals per company, the share of companies with no recent signal,
    and the share of the crawl's signals left unresolved. Months without a crawl are skipped.
    """
    have = set(lake.months(C.SIGNALS))
    companies = lake.read(C.COMPANIES, columns=["customer_id"]).num_rows
    con = _duck()
    con.execute("create temp table book as select customer_id from read_parquet(?)",
                [str(lake.path(C.COMPANIES) / "*.parquet")])
    rows = []
    for m in months:
        if m not in have:
            continue
        paths = [str(lake.path(C.SIGNALS, p) / "*.parquet") for p in sorted(have) if p <= m]
        c = cutoff(m)
        lo = (pd.Timestamp(c) - pd.Timedelta(days=RECENT_DAYS)).date()
        crawl = con.execute(
            "select count(*), count(*) filter (where customer_id is null) from read_parquet(?)",
            [str(lake.path(C.SIGNALS, m) / "*.parquet")]).fetchone()
        per = con.execute(
            """
            with s as (
              select distinct on (signal_id) signal_id, customer_id, published_at
              from read_parquet(?, union_by_name = true)
            )
            select count(*), count(distinct s.customer_id)
            from s join book using (customer_id)
            where s.published_at >= ? and s.published_at < ?
            """, [paths, lo, c.date()]).fetchone()
        recent, covered = int(per[0]), int(per[1])
        rows.append({
            "month": m, "companies": companies, "crawl_signals": int(crawl[0]),
            "unresolved_share": crawl[1] / crawl[0] if crawl[0] else float("nan"),
            "recent_signals": recent,
            "signals_per_company": recent / companies if companies else float("nan"),
            "no_signal_share": 1 - covered / companies if companies else float("nan"),
        })
    con.close()
    return pd.DataFrame(rows, columns=["month", "companies", "crawl_signals", "unresolved_share",
                                       "recent_signals", "signals_per_company",
                                       "no_signal_share"])


def label_delay(lake: Lake, months: Sequence[str], horizon: int = 3) -> pd.DataFrame:
    """When the outcomes that label each cut-off arrive, and how far labels lag features.

    For cut-off M: whether ``labels/month=M`` exists; won opportunities closed in the window
    [M, M+horizon) and the share of them closed in each month of it (a late-heavy window
    means a backtest run right after the window sees incomplete CRM data); the median days
    from the cut-off to the win; opportunities created in the window and still open at
    export (outcomes not known yet); and ``lag_months``, how many months the newest labelled
    cut-off trails the newest feature month.
    """
    labelled = set(lake.months("labels"))
    features = lake.months("features")
    newest_label = max(labelled) if labelled else None
    lag = (month_index(max(features)) - month_index(newest_label)
           if features and newest_label else float("nan"))
    con = _duck()
    opp = str(lake.path(C.OPPORTUNITIES) / "*.parquet")
    rows = []
    for m in months:
        lo, hi = cutoff(m).date(), cutoff(add_months(m, horizon)).date()
        won = con.execute(
            "select closed_at from read_parquet(?) where outcome = 'won' and closed_at >= ? "
            "and closed_at < ?", [opp, lo, hi]).df()
        still_open = con.execute(
            "select count(*) from read_parquet(?) where outcome = 'open' and created_at >= ? "
            "and created_at < ?", [opp, lo, hi]).fetchone()[0]
        days = (pd.to_datetime(won["closed_at"]) - pd.Timestamp(lo)).dt.days
        row = {"month": m, "labels": m in labelled, "wins": len(won),
               "median_days_to_win": float(days.median()) if len(days) else float("nan"),
               "open_in_window": int(still_open), "lag_months": lag}
        for i in range(horizon):
            a = cutoff(add_months(m, i)).date()
            b = cutoff(add_months(m, i + 1)).date()
            closed = pd.to_datetime(won["closed_at"]).dt.date
            row[f"share_month{i + 1}"] = (float(((closed >= a) & (closed < b)).mean())
                                          if len(won) else float("nan"))
        rows.append(row)
    con.close()
    return pd.DataFrame(rows)


def drift_flags(score_drift: pd.DataFrame, feature_drift: pd.DataFrame,
                coverage: pd.DataFrame, delay: pd.DataFrame,
                settings: EvaluationSettings) -> list[Flag]:
    """Every threshold of ``settings`` crossed, one :class:`Flag` each."""
    flags: list[Flag] = []
    for r in score_drift.itertuples():
        if r.psi == r.psi and r.psi >= settings.psi_alert:
            flags.append(Flag("scores", r.month, f"{r.product} {r.column}", r.psi,
                              settings.psi_alert, f"{r.product}: PSI of {r.column} "
                              f"{r.previous} -> {r.month} is {r.psi:.3f} (>= "
                              f"{settings.psi_alert})"))
    for r in feature_drift.itertuples():
        if r.psi == r.psi and r.psi >= settings.psi_alert:
            flags.append(Flag("features", r.month, r.feature, r.psi, settings.psi_alert,
                              f"feature {r.feature}: PSI {r.previous} -> {r.month} is "
                              f"{r.psi:.3f} (>= {settings.psi_alert})"))
    prev = None
    for r in coverage.itertuples():
        if r.no_signal_share > settings.no_signal_share_max:
            flags.append(Flag("coverage", r.month, "no_signal_share", r.no_signal_share,
                              settings.no_signal_share_max,
                              f"{100 * r.no_signal_share:.1f}% of companies have no signal in "
                              f"the {RECENT_DAYS} days before {r.month} (max "
                              f"{100 * settings.no_signal_share_max:.0f}%)"))
        if prev is not None and prev.signals_per_company > 0:
            change = r.signals_per_company / prev.signals_per_company - 1
            if abs(change) > settings.coverage_change_max:
                flags.append(Flag("coverage", r.month, "signals_per_company", change,
                                  settings.coverage_change_max,
                                  f"recent signals per company moved {100 * change:+.0f}% from "
                                  f"{prev.month} to {r.month} (max "
                                  f"{100 * settings.coverage_change_max:.0f}%)"))
        prev = r
    if len(delay) and delay["lag_months"].iloc[0] == delay["lag_months"].iloc[0]:
        lag = delay["lag_months"].iloc[0]
        if lag > settings.label_lag_max_months:
            flags.append(Flag("labels", str(delay["month"].iloc[-1]), "lag_months", lag,
                              settings.label_lag_max_months,
                              f"the newest labelled cut-off trails the newest features by "
                              f"{lag:.0f} months (max {settings.label_lag_max_months})"))
    return flags
