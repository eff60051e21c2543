"""Benchmark: scoring N companies for every product, with reasons, vs bare LightGBM predict.

Needs a lake with features for ``--month`` and champion models for every product (any lake
the monthly job or ``propensity train`` has run on). The month's feature rows are tiled to
``--rows`` companies (new customer ids; values repeat the market's, which is what scoring
cost depends on), then, in this process:

1. our scoring as the monthly batch runs it (:func:`scoring.scores.score_chunks`: every
   model's probabilities, then ``chunk_rows`` rows at a time 0-100 scores, classes, cells,
   clusters, revenue, movement and, with ``--reasons``, three reasons per score from the
   ``--attribution`` contributions), each chunk converted to the scores contract and
   streamed into one Parquet file (``Lake.write``) in a scratch lake that is removed after;
2. the bare baseline: ``booster.predict`` of every model on the same prepared matrices.

With ``--agreement``, first compares the reasons' groups of the two attributions on the
month's own rows (untiled): the share of scores whose strongest reason group is the same
under path attribution as under TreeSHAP, and the mean overlap of their top-3 groups.

Prints ``name: value`` lines: seconds, rows per second, peak RSS, the ratio of our
throughput to the bare predict's and the load average before and after. Example::

    python benchmarks/bench_score.py --lake lake --month 2026-11 --rows 1000000
    python benchmarks/bench_score.py --lake lake --month 2026-11 --rows 5000 --agreement
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def rss_peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def tile(features: pd.DataFrame, rows: int) -> pd.DataFrame:
    reps = int(np.ceil(rows / len(features)))
    out = pd.concat([features] * reps, ignore_index=True)
    if len(out) > rows:  # one copy of the tiled frame at a time
        out = out.iloc[:rows].copy()
    k = np.repeat(np.arange(reps), len(features))[:rows]
    out["customer_id"] = out["customer_id"].astype(str) + np.char.add("-", k.astype(str))
    return out


def agreement(features: pd.DataFrame, models: dict, settings) -> tuple[float, float, int]:
    """Top-1 share and mean top-3 overlap of reason groups, path vs TreeSHAP, every model."""
    from propensity.products import eligible_mask
    from scoring.reasons import group_of
    from scoring.scores import _contributions, _predict, _Prepared, percentile_scores

    batch = settings.scoring.batch_rows
    top1, top3, n = 0.0, 0.0, 0
    for product, pair in models.items():
        for kind, pipe in pair.items():
            if pipe is None:
                continue
            X = _Prepared(features if kind == "fit"
                          else features[eligible_mask(features, product)])
            if len(X.X) == 0:
                continue
            high = percentile_scores(_predict(pipe, X, batch)) >= 50
            tops = []
            for method in ("path", "treeshap"):
                c, names = _contributions(pipe, X, batch, method)
                groups = [group_of(f) for f in names]
                uniq = sorted(set(groups))
                onehot = np.zeros((len(names), len(uniq)), np.float32)
                onehot[np.arange(len(names)), [uniq.index(g) for g in groups]] = 1
                summed = c @ onehot
                tops.append(np.argsort(-np.where(high[:, None], summed, -summed), axis=1)[:, :3])
            a, b = tops
            top1 += float((a[:, 0] == b[:, 0]).sum())
            top3 += float(sum(len(set(x) & set(y)) / 3 for x, y in zip(a, b, strict=True)))
            n += len(X.X)
    return top1 / n, top3 / n, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--month", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reasons", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--attribution", choices=["path", "treeshap"], default=None,
                    help="override settings.scoring.attribution")
    ap.add_argument("--chunk-rows", type=int, default=None,
                    help="override settings.scoring.chunk_rows")
    ap.add_argument("--agreement", action="store_true",
                    help="first compare path and TreeSHAP reason groups on the month's rows")
    ap.add_argument("--scratch", default=None, help="folder for the scratch lake "
                    "(default: a temporary folder beside --lake)")
    args = ap.parse_args()
    for n in ("mlflow", "alembic", "urllib3", "git"):
        logging.getLogger(n).setLevel(logging.WARNING)

    from propensity import contracts as C
    from propensity.lake import Lake
    from propensity.products import eligible_mask
    from propensity.settings import load_settings
    from scoring.batch import load_champions, read_features, read_signals, to_arrow
    from scoring.reasons import strongest_signals
    from scoring.scores import score_chunks

    settings = load_settings(lake=args.lake)
    over = {k: v for k, v in (("attribution", args.attribution),
                              ("chunk_rows", args.chunk_rows)) if v is not None}
    if over:
        settings = settings.model_copy(update={
            "scoring": settings.scoring.model_copy(update=over)})
    lake = Lake(args.lake)
    champions = load_champions(lake, settings, settings.products, strict=False)
    base = read_features(lake, args.month)
    signals = strongest_signals(read_signals(lake, args.month), args.month)
    print(f"load_average_before: {load()}")
    if args.agreement:
        t = time.perf_counter()
        a1, a3, n = agreement(base, champions.models, settings)
        print(f"agreement_scores: {n}")
        print(f"agreement_top1_share: {a1:.3f}")
        print(f"agreement_top3_mean_overlap: {a3:.3f}")
        print(f"agreement_seconds: {time.perf_counter() - t:.1f}")
    feats = tile(base, args.rows)
    del base
    print(f"rows: {len(feats)}")
    print(f"products: {len(champions.models)}")
    print(f"reasons: {args.reasons}")
    print(f"attribution: {settings.scoring.attribution}")
    print(f"chunk_rows: {settings.scoring.chunk_rows}")

    scratch = Path(tempfile.mkdtemp(prefix=".bench-score-", dir=args.scratch or
                                    Path(args.lake).resolve().parent))
    try:
        t0 = time.perf_counter()
        n_scores = 0

        def tables():
            nonlocal n_scores
            for part in score_chunks(feats, champions.models, settings, month=args.month,
                                     signals=signals, versions=champions.versions,
                                     reasons=args.reasons):
                n_scores += len(part)
                yield to_arrow(part)

        Lake(scratch).write(C.SCORES, tables(), month=args.month)
        ours = time.perf_counter() - t0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"score_rows: {n_scores}")
    print(f"ours_seconds: {ours:.1f}")
    print(f"ours_companies_per_second: {len(feats) / ours:.0f}")
    print(f"peak_rss_gib_after_ours: {rss_peak_gib():.2f}")

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
    print(f"load_average_after: {load()}")


if __name__ == "__main__":
    main()
