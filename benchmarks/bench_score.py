"""Benchmark: scoring N companies for every product, with and without reasons.

Needs a lake with features for ``--month`` and champion models for every product (any lake
the monthly job or ``propensity train`` has run on). The month's feature rows are tiled to
``--rows`` companies (new customer ids; values repeat the market's, which is what scoring
cost depends on), then, in this process:

1. our scoring (:func:`scoring.scores.score_frame`: probabilities, 0-100 scores, classes,
   cells, clusters, revenue, movement and, with ``--reasons``, three reasons per score from
   LightGBM ``pred_contrib``);
2. the bare baseline: ``booster.predict`` of every model on the same prepared matrices.

Prints ``name: value`` lines: seconds, rows per second, peak RSS, and the ratio of our
throughput to the bare predict's. Example::

    python benchmarks/bench_score.py --lake lake --month 2026-11 --rows 1000000 --no-reasons
    python benchmarks/bench_score.py --lake lake --month 2026-11 --rows 100000
"""

from __future__ import annotations

import argparse
import logging
import resource
import time

import numpy as np
import pandas as pd


def rss_peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def tile(features: pd.DataFrame, rows: int) -> pd.DataFrame:
    reps = int(np.ceil(rows / len(features)))
    out = pd.concat([features] * reps, ignore_index=True).iloc[:rows].copy()
    k = np.repeat(np.arange(reps), len(features))[:rows]
    out["customer_id"] = out["customer_id"].astype(str) + np.char.add("-", k.astype(str))
    return out.reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--month", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reasons", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()
    for n in ("mlflow", "alembic", "urllib3", "git"):
        logging.getLogger(n).setLevel(logging.WARNING)

    from propensity.lake import Lake
    from propensity.products import eligible_mask
    from propensity.settings import load_settings
    from scoring.batch import load_champions, read_features, read_signals
    from scoring.reasons import strongest_signals
    from scoring.scores import score_frame

    settings = load_settings(lake=args.lake)
    lake = Lake(args.lake)
    champions = load_champions(lake, settings, settings.products, strict=False)
    base = read_features(lake, args.month)
    feats = tile(base, args.rows)
    signals = strongest_signals(read_signals(lake, args.month), args.month)
    print(f"rows: {len(feats)}")
    print(f"products: {len(champions.models)}")
    print(f"reasons: {args.reasons}")

    t0 = time.perf_counter()
    scores = score_frame(feats, champions.models, settings, month=args.month, signals=signals,
                         versions=champions.versions, reasons=args.reasons)
    ours = time.perf_counter() - t0
    print(f"score_rows: {len(scores)}")
    print(f"ours_seconds: {ours:.1f}")
    print(f"ours_companies_per_second: {len(feats) / ours:.0f}")
    print(f"peak_rss_gib_after_ours: {rss_peak_gib():.2f}")
    del scores

    # the bare baseline: LightGBM's predict on the prepared matrices of the same rows
    bare = 0.0
    for product, pair in champions.models.items():
        for kind, pipe in pair.items():
            if pipe is None:
                continue
            X = feats if kind == "fit" else feats[eligible_mask(feats, product)]
            for start in range(0, len(X), settings.scoring.batch_rows):
                Xp = pipe.named_steps["prep"].transform(X.iloc[start:start + settings.scoring.batch_rows])
                booster = pipe.named_steps["model"].estimator_.booster_
                t = time.perf_counter()
                booster.predict(Xp)
                bare += time.perf_counter() - t
    print(f"bare_predict_seconds: {bare:.1f}")
    print(f"bare_companies_per_second: {len(feats) / bare:.0f}")
    print(f"ratio_ours_to_bare_throughput: {bare / ours:.3f}")
    print(f"peak_rss_gib: {rss_peak_gib():.2f}")


if __name__ == "__main__":
    main()
