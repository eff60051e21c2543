"""The monthly batch: load the champions, read the month's tables, write ``scores/month=M``.

Also on-demand scoring of a company that is not in the batch (a partner's new CRM account),
through the same feature definitions and the same :func:`scoring.scores.score_frame`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months, parse_month
from propensity.settings import Settings
from scoring.reasons import strongest_signals
from scoring.scores import Reference, deal_sizes, score_chunks, score_frame

log = logging.getLogger(__name__)

FEATURES = "features"


class ScoringError(RuntimeError):
    """Scoring cannot run: the message names what is missing and how to make it."""


@dataclass
class Champions:
    """The champion pipelines per product and kind, with their registry versions."""

    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, dict[str, str]] = field(default_factory=dict)
    uris: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def drop_missing(self) -> Champions:
        for p in self.missing:
            for d in (self.models, self.versions, self.uris):
                d.pop(p, None)
        return self


def load_champions(lake: Lake, settings: Settings, products: Iterable[str],
                   strict: bool = True) -> Champions:
    """Load ``models:/propensity-<product>-<kind>@champion`` for each product.

    A product without a fit champion cannot be scored: with ``strict`` the error says to
    train it, otherwise the product is left out (and listed in ``missing``). A product
    without an intent champion is scored for fit only (every row not eligible).
    """
    import mlflow

    from training import tracking as T

    client = T.use_tracking(lake.root, settings.training.tracking_uri)
    out = Champions()
    for product in products:
        out.models[product], out.versions[product], out.uris[product] = {}, {}, {}
        for kind in ("fit", "intent"):
            name = T.model_name(product, kind)
            champ = T.get_champion(client, name)
            if champ is None:
                if kind == "fit" and not strict:
                    log.warning("%s has no champion: %s is not scored", name, product)
                    out.missing.append(product)
                    break
                if kind == "fit":
                    raise ScoringError(f"no champion for {name}: run `propensity train "
                                       f"--month M --products {product}` first")
                log.warning("%s has no champion: %s is scored for fit only", name, product)
                out.models[product][kind] = None
                continue
            uri = f"models:/{name}@{T.CHAMPION}"
            out.models[product][kind] = mlflow.sklearn.load_model(uri)
            out.versions[product][kind] = str(champ.version)
            out.uris[product][kind] = uri
    return out.drop_missing()


def read_features(lake: Lake, month: str) -> pd.DataFrame:
    path = lake.path(FEATURES, month)
    if not path.exists():
        raise ScoringError(f"no features for {month} at {path}: run `propensity features "
                           f"--month {month}`")
    f = pq.read_table(path).to_pandas()
    return f.sort_values("customer_id", kind="stable").reset_index(drop=True)


def read_signals(lake: Lake, month: str, domains: Iterable[str] | None = None) -> pd.DataFrame:
    """Crawl partitions up to ``month`` (with their ``month``), optionally for some domains."""
    months = [m for m in lake.months(C.SIGNALS) if m <= month]
    frames = []
    cols = ["customer_id", "domain", "topic", "url", "published_at", "observed_at",
            "evidence", "source", "confidence"]
    want = set(domains) if domains is not None else None
    for m in months:
        t = pq.read_table(lake.path(C.SIGNALS, m), columns=cols).to_pandas()
        if want is not None:
            t = t[t["domain"].isin(want)]
        t["month"] = m
        frames.append(t)
    if not frames:
        return pd.DataFrame(columns=[*cols, "month"])
    return pd.concat(frames, ignore_index=True)


def read_previous(lake: Lake, month: str) -> pd.DataFrame | None:
    prev = add_months(month, -1)
    path = lake.path(C.SCORES, prev)
    if not path.exists():
        return None
    return pq.read_table(path, columns=["customer_id", "product", "cell", "fit_score",
                                        "intent_score", "intent_reasons"]).to_pandas()


def _companies(lake: Lake) -> pd.DataFrame:
    return lake.read(C.COMPANIES, columns=["customer_id", "subsegment"]).to_pandas()


def _opportunities(lake: Lake) -> pd.DataFrame | None:
    if not lake.path(C.OPPORTUNITIES).exists():
        return None
    return lake.read(C.OPPORTUNITIES, columns=["customer_id", "product", "outcome",
                                               "closed_at", "amount_usd"]).to_pandas()


@dataclass
class ScoreReport:
    month: str
    rows: int
    customers: int
    products: list[str]
    versions: dict[str, dict[str, str]]
    path: Path
    seconds: float
    clusters: dict[str, dict[str, int]]


def score_month(lake: Lake, settings: Settings, month: str,
                products: Iterable[str] | None = None, engine: str = "duckdb",
                champions: Champions | None = None,
                progress: Callable[[str], None] | None = None) -> ScoreReport:
    """Score every customer of ``month`` for every product and write ``scores/month=M``."""
    t0 = time.perf_counter()
    parse_month(month)
    products = list(products or settings.products)
    if engine == "spark":
        from scoring.spark import score_month_spark

        return score_month_spark(lake, settings, month, products, progress=progress)
    if engine != "duckdb":
        raise ValueError(f"unknown engine {engine!r}: use duckdb or spark")
    feats = read_features(lake, month)
    champions = champions or load_champions(lake, settings, products)
    signals = strongest_signals(read_signals(lake, month), month)
    sizes = deal_sizes(_opportunities(lake), _companies(lake), month, settings)
    chunks = score_chunks(feats, champions.models, settings, month=month, signals=signals,
                          previous=read_previous(lake, month), versions=champions.versions,
                          deal_size=sizes, progress=progress)
    rows, customers, counts = 0, set(), []

    def tables() -> Iterator[pa.Table]:
        nonlocal rows
        for part in chunks:
            rows += len(part)
            customers.update(part["customer_id"].unique())
            counts.append(part.groupby(["product", "cluster"]).size())
            yield to_arrow(part)

    # chunk by chunk into one file: only one chunk's scores and reasons are in memory
    path = lake.write(C.SCORES, tables(), month=month)
    return ScoreReport(month, rows, len(customers), products, champions.versions, path,
                       time.perf_counter() - t0,
                       _nested_counts(pd.concat(counts).groupby(level=[0, 1]).sum()))


def cluster_counts(scores: pd.DataFrame) -> dict[str, dict[str, int]]:
    return _nested_counts(scores.groupby(["product", "cluster"]).size())


def _nested_counts(counts: pd.Series) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (p, c), n in counts.items():
        out.setdefault(str(p), {})[str(c)] = int(n)
    return out


def to_arrow(scores: pd.DataFrame) -> pa.Table:
    """The scores frame as an Arrow table with the contract's types."""
    schema = C.SCORES.schema()
    df = scores.copy()
    df["evidence_date"] = pd.to_datetime(df["evidence_date"]).dt.date
    df["intent_score"] = df["intent_score"].astype("Int64")
    for col in ("fit_reasons", "intent_reasons"):
        df[col] = [x if type(x) is list else list(x) if x is not None else []
                   for x in df[col]]
    return pa.Table.from_pandas(df[list(schema.names)], schema=schema, preserve_index=False)


def write_scores(lake: Lake, scores: pd.DataFrame, month: str) -> Path:
    return lake.write(C.SCORES, to_arrow(scores), month=month)


# --------------------------------------------------------------------------------------
# On demand
# --------------------------------------------------------------------------------------

ON_DEMAND_FIELDS = ("account_name", "domain", "employees", "country", "industry")


def score_new_company(lake: Lake | str | Path, settings: Settings, company: dict[str, Any],
                      month: str | None = None, champions: Champions | None = None
                      ) -> pd.DataFrame:
    """Score a company that is not in the batch (e.g. a new CRM account) for every product.

    ``company`` holds firmographics (``account_name``, ``domain``, ``employees``,
    ``country``, ``industry``; optionally ``vertical``, ``city``, ``state``,
    ``postal_code``, ``acr_monthly_usd``). Its features come from the same definitions as the
    batch (:func:`features.definitions.feature_table`) over this one company and its crawled
    signals, looked up by domain; it owns nothing from the vendor yet. Scores are percentiles
    against the batch month's distribution (``scores/month=M``, the latest by default).
    """
    from features.on_demand import features_for_companies

    lake = lake if isinstance(lake, Lake) else Lake(lake)
    missing = [f for f in ON_DEMAND_FIELDS if company.get(f) in (None, "")]
    if missing:
        raise ValueError(f"company is missing field(s): {', '.join(missing)}")
    if month is None:
        months = lake.months(C.SCORES)
        if not months:
            raise ScoringError("no scored month in the lake: run `propensity score` first")
        month = months[-1]
    batch = pq.read_table(lake.path(C.SCORES, month),
                          columns=["product", "fit_probability", "probability"]).to_pandas()
    reference = Reference.from_scores(batch)
    products = [p for p in settings.products if p in reference.fit]
    domain = str(company["domain"]).strip().lower()
    sig = read_signals(lake, month, domains=[domain])
    feats = features_for_companies([{**company, "domain": domain}], sig, month)
    champions = champions or load_champions(lake, settings, products)
    ev = strongest_signals(sig.assign(customer_id=feats["customer_id"].iloc[0]), month)
    sizes = deal_sizes(_opportunities(lake), _companies(lake), month, settings)
    out = score_frame(feats, champions.models, settings, month=month, signals=ev,
                      versions=champions.versions, deal_size=sizes, reference=reference)
    out["cell_change"] = "new"
    out["cell_change_reason"] = "scored on demand (not in the monthly batch)"
    return out


def scores_as_records(scores: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows (dates as ISO strings, NaN as None, lists as lists)."""
    df = scores.astype(object).where(scores.notna(), None)
    recs = df.to_dict(orient="records")
    for r in recs:
        for k, v in r.items():
            if isinstance(v, np.ndarray):
                r[k] = v.tolist()
            elif hasattr(v, "isoformat"):
                r[k] = v.isoformat()
            elif isinstance(v, np.generic):
                r[k] = v.item()
    return recs
