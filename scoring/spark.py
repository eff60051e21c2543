"""The scale path: score a month on Spark, with the same numbers as the embedded path.

Two passes over the month's feature table, both distributed:

1. ``mlflow.pyfunc.spark_udf`` applies each champion (fit and intent, per product) to every
   row; the probabilities give the month's reference distributions (sorted arrays, a few
   bytes per customer and product, collected to the driver) that define the 0-100 scores;
2. ``mapInArrow`` runs :func:`scoring.scores.score_frame` on each partition of rows with
   those references (so a score is the percentile in the *whole* month, not in the
   partition), last month's cells (a broadcast of four columns) and the evidence signals of
   the partition's customers; Spark writes ``scores/month=M`` to a staging folder that is
   swapped into place.

Local mode in tests; on a cluster, pass a session built for it.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from propensity import contracts as C
from propensity.lake import Lake, replace_dir
from propensity.products import eligible_mask
from propensity.settings import Settings

log = logging.getLogger(__name__)


def _proba_udf(spark: Any, uri: str) -> Any:
    import mlflow
    from pyspark.sql.types import ArrayType, DoubleType

    return mlflow.pyfunc.spark_udf(spark, uri, result_type=ArrayType(DoubleType()),
                                   env_manager="local")


def score_month_spark(lake: Lake, settings: Settings, month: str, products: list[str],
                      session: Any = None,
                      progress: Callable[[str], None] | None = None) -> Any:
    """Score ``month`` on Spark; returns a :class:`scoring.batch.ScoreReport`."""

    from features.engines.spark import local_session
    from scoring.batch import (
        ScoreReport,
        ScoringError,
        _companies,
        _opportunities,
        cluster_counts,
        load_champions,
        read_previous,
        read_signals,
    )
    from scoring.reasons import strongest_signals
    from scoring.scores import Reference, deal_sizes, score_frame

    t0 = time.perf_counter()
    fpath = lake.path("features", month)
    if not fpath.exists():
        raise ScoringError(f"no features for {month} at {fpath}: run `propensity features "
                           f"--month {month}`")
    spark = session or local_session(app="propensity-scoring")
    champions = load_champions(lake, settings, products)
    feats = spark.read.parquet(str(fpath))

    # pass 1: the month's probability distributions, through spark_udf
    probs = feats.select("customer_id", *[c for c in feats.columns if c != "customer_id"])
    for product in products:
        for kind in ("fit", "intent"):
            uri = champions.uris[product].get(kind)
            if uri is None:
                continue
            model = champions.models[product][kind]
            cols = list(model.named_steps["prep"].feature_names_in_)
            udf = _proba_udf(spark, uri)
            probs = probs.withColumn(f"p_{product}_{kind}", udf(*cols)[1])
    keep = ["customer_id", *[c for c in probs.columns if c.startswith("p_")]]
    elig_cols = sorted({c for c in feats.columns if c.startswith("ib_") and c.endswith("_owned")}
                       | {"agr_ending_90d"})
    dist = probs.select(*keep, *elig_cols).toPandas()
    fit_ref, intent_ref = {}, {}
    for product in products:
        fit_ref[product] = np.sort(dist[f"p_{product}_fit"].to_numpy(float))
        col = f"p_{product}_intent"
        if col in dist:
            mask = eligible_mask(dist, product)
            intent_ref[product] = np.sort(dist.loc[mask, col].to_numpy(float))
    reference = Reference(fit_ref, intent_ref)
    if progress:
        progress("reference")

    # pass 2: scores, classes, reasons and movement per partition
    signals = strongest_signals(read_signals(lake, month), month)
    previous = read_previous(lake, month)
    sizes = deal_sizes(_opportunities(lake), _companies(lake), month, settings)
    sc = spark.sparkContext
    b_models = sc.broadcast(champions.models)
    b_signals = sc.broadcast(signals)
    b_prev = sc.broadcast(previous)
    versions, b_ref = champions.versions, sc.broadcast(reference)
    cfg = settings.model_dump()

    def score_batches(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        from propensity.settings import Settings as S
        from scoring.batch import to_arrow

        s = S(**cfg)
        for rb in batches:
            if rb.num_rows == 0:
                continue
            batch = pa.Table.from_batches([rb]).to_pandas()
            ids = set(batch["customer_id"])
            sig = b_signals.value
            prev = b_prev.value
            out = score_frame(batch, b_models.value, s, month=month,
                              signals=sig[sig["customer_id"].isin(ids)],
                              previous=None if prev is None else prev[prev["customer_id"].isin(ids)],
                              versions=versions, deal_size=sizes, reference=b_ref.value)
            yield from to_arrow(out).combine_chunks().to_batches()

    from pyspark.sql.types import StructType

    schema = StructType.fromJson(_spark_schema_json())
    scored = feats.mapInArrow(score_batches, schema=schema)
    dest = lake.path(C.SCORES, month)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".spark-") as tmp:
        staging = Path(tmp) / "out"
        scored.write.mode("overwrite").parquet(str(staging))
        for junk in staging.glob("_*"):
            junk.unlink()
        replace_dir(staging, dest)
    if progress:
        progress("scores")
    table = pq.read_table(dest, columns=["customer_id", "product", "cluster"]).to_pandas()
    return ScoreReport(month, len(table), table["customer_id"].nunique(), products,
                       champions.versions, dest, time.perf_counter() - t0,
                       cluster_counts(table))


def _spark_schema_json() -> dict[str, Any]:
    """The scores contract as a Spark schema (via Arrow)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(C.SCORES.schema()).jsonValue()
