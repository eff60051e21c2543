"""Benchmark: train every product (fit + intent) at 1M companies; print time, peak memory and
the ratio of our training time to a bare LightGBM fit on the same matrices.

Setup (not timed, reused with --work): a sandbox market (`sandbox.market.generate_market`, seed
42, 24 months to 2026-10), bulk signals for every month (`sandbox.signals.write_bulk_signals`,
--signals-per-company rows per company in all: the benchmark measures cost, not quality, and
bulk signals do not follow the market's truth), and features + labels only for the cut-offs
the training window needs: the backtest month B = M - 3 and the --train-months cut-offs up to
B - 3 (whose label windows close before B), for the scoring month M (default 2026-11, the
month after history).

Timed, in a fresh child process (so the peak RSS is the training's own):
`training.train.train(lake, settings, M, every product, ("fit", "intent"))` with a fresh
MLflow store, `training.negative_rate` = --negative-rate (intent rows sampled at read time
with inverse-probability weights; the lookalike samples unlabeled rows in its estimator).
Then, in the same process, one bare `LGBMClassifier.fit` (same parameters) per model on the
prepared matrix of the rows its final LightGBM fit saw, with the same weights: the ratio
says what calibration, the refit, the baselines, reading, MLflow and the model files cost.

Target (issue 5): every product at 1M companies in at most 20 minutes.

    python benchmarks/bench_train.py --work /tmp/bench-train          # 1M companies
    python benchmarks/bench_train.py --companies 20000 --work /tmp/bt  # a quick check
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 20 * 60

GENERATE = r"""
import sys
from propensity.lake import Lake
from propensity.settings import SandboxSettings
from sandbox.market import generate_market
n, months, root = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
generate_market(Lake(root), SandboxSettings(companies=n, months=months, seed=42))
"""

SIGNALS = r"""
import sys
from propensity.lake import Lake
from sandbox.signals import write_bulk_signals
root, rows, months = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
print(write_bulk_signals(Lake(root), months, rows, repeats=1, seed=7))
"""

FEATURES = r"""
import sys
from features import build_features
print(build_features(sys.argv[1], sys.argv[2], "duckdb",
                     engine_options={"memory_limit": sys.argv[3]}).rows)
"""

TRAIN = r"""
import json, logging, resource, sys, time
import numpy as np
root, month, train_months, rate, mlflow_dir = sys.argv[1:6]
from propensity.lake import Lake
from propensity.settings import load_settings
from training import data as D
from training.train import intent_rows, train, training_frames, shared_frame

logging.basicConfig(level=logging.WARNING)
settings = load_settings(lake=root, training={"train_months": int(train_months),
                         "negative_rate": float(rate), "tracking_uri": f"sqlite:///{mlflow_dir}/mlflow.db"})
lake = Lake(root)
t0 = time.perf_counter()
results = train(lake, settings, month, settings.products, ("fit", "intent"))
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
per_model = {f"{r.product}/{r.kind}": [r.status, round(r.seconds, 1),
             r.metrics.get("auc"), r.metrics.get("capture_top10"), r.reason] for r in results}

# bare LightGBM: one fit per model, same parameters, on the prepared matrix of the rows the
# final LightGBM fit of that model saw (same sample, same weights)
from training.estimators import sample_negatives, default_lgbm
from training.prep import FramePreparer
from training.train import intent_params
p = D.plan(lake, month, settings.training.train_months)
shared = shared_frame(lake, settings, p)
sampled = intent_rows(lake, settings, p, settings.products)
bare, rows = 0.0, {}
for product in settings.products:
    frames = training_frames(lake, settings, p, product, shared, intent_rows=sampled)
    for kind in ("fit", "intent"):
        if per_model[f"{product}/{kind}"][0] != "trained":
            continue
        df = frames[kind]
        if kind == "intent":
            X, y, _ = D.intent_set(df, product)
            w = X[D.WEIGHT].to_numpy(float)
            idx = np.arange(len(y))
        else:
            X, y = D.fit_set(df, product)
            idx, w = sample_negatives(np.asarray(y), settings.training.negative_rate, None,
                                       settings.seed)
            X, y = X.iloc[idx], np.asarray(y)[idx]
        Xp = FramePreparer(D.feature_columns(df, product, kind)).fit_transform(X)
        t1 = time.perf_counter()
        params = (intent_params(settings, len(y)) if kind == "intent"
                  else settings.training.lgbm)
        default_lgbm(random_state=settings.seed, **params).fit(Xp, y, sample_weight=w)
        bare += time.perf_counter() - t1
        rows[f"{product}/{kind}"] = [int(Xp.shape[0]), int(Xp.shape[1])]
    del frames
print(json.dumps({"seconds": seconds, "peak_rss_gib": peak, "bare_seconds": bare,
                  "per_model": per_model, "rows": rows, "train": p.train,
                  "backtest": p.backtest}))
"""


def _child(code: str, *args: object) -> str:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                         text=True)
    if out.returncode:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"child failed: {code.strip().splitlines()[0]}")
    lines = out.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def prepare(root: Path, n: int, months: int, month: str, train_months: int,
            signals_per_company: int, memory: str) -> list[str]:
    """Market, bulk signals and the window's features in ``root`` (reused when there)."""
    from propensity.lake import Lake
    from propensity.months import add_months, month_range
    from propensity.settings import SandboxSettings

    end = SandboxSettings().end_month
    spec = {"companies": n, "months": months, "seed": 42, "end_month": end}
    marker = root / "bench-market.json"
    if not marker.exists() or json.loads(marker.read_text()) != spec:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        t0 = time.perf_counter()
        _child(GENERATE, n, months, root)
        marker.write_text(json.dumps(spec))
        print(f"setup_market_s: {time.perf_counter() - t0:.0f}", flush=True)
    lake = Lake(root)
    crawls = lake.months("raw/subscriptions")
    sig = {"rows": n * signals_per_company, "months": crawls}
    sig_marker = root / "bench-signals.json"
    if not sig_marker.exists() or json.loads(sig_marker.read_text()) != sig:
        shutil.rmtree(root / "signals", ignore_errors=True)
        t0 = time.perf_counter()
        _child(SIGNALS, root, sig["rows"], ",".join(crawls))
        sig_marker.write_text(json.dumps(sig))
        print(f"setup_signals_s: {time.perf_counter() - t0:.0f}", flush=True)
    backtest = add_months(month, -3)
    last = add_months(backtest, -3)  # purged split: training label windows close before B
    needed = [*month_range(add_months(last, 1 - train_months), last), backtest]
    t0 = time.perf_counter()
    for m in reversed(needed):  # latest first: a shorter window can run while the rest builds
        if m not in lake.months("labels"):
            _child(FEATURES, root, m, memory)
    print(f"setup_features_s: {time.perf_counter() - t0:.0f} "
          f"({len(needed)} cut-offs {needed[0]}..{needed[-1]})", flush=True)
    return needed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--companies", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=24, help="months of market history")
    ap.add_argument("--month", default="2026-11", help="scoring month of the training run")
    ap.add_argument("--train-months", type=int, default=12)
    ap.add_argument("--negative-rate", type=float, default=0.05,
                    help="training.negative_rate (share of non-buyers kept, weighted)")
    ap.add_argument("--signals-per-company", type=int, default=10)
    ap.add_argument("--memory-limit", default="5GB", help="DuckDB memory_limit for features")
    ap.add_argument("--work", type=Path, default=None,
                    help="keep the market and features here and reuse them on the next run")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-train-"))
    root = work / f"n{args.companies}"
    prepare(root, args.companies, args.months, args.month, args.train_months,
            args.signals_per_company, args.memory_limit)
    mlflow_dir = Path(tempfile.mkdtemp(prefix="bench-train-mlflow-"))
    try:
        r = json.loads(_child(TRAIN, root, args.month, args.train_months, args.negative_rate,
                              mlflow_dir))
    finally:
        shutil.rmtree(mlflow_dir, ignore_errors=True)
    trained = [k for k, v in r["per_model"].items() if v[0] == "trained"]
    intent_rows = sum(v[0] for k, v in r["rows"].items() if k.endswith("/intent"))
    print(f"companies: {args.companies}")
    print(f"train_months: {','.join(r['train'])}")
    print(f"backtest_month: {r['backtest']}")
    print(f"negative_rate: {args.negative_rate}")
    print(f"models_trained: {len(trained)} of {len(r['per_model'])}")
    for k, v in r["per_model"].items():
        shape = r["rows"].get(k, ["-", "-"])
        auc = "nan" if v[2] is None else f"{v[2]:.3f}"
        cap = "nan" if v[3] is None else f"{v[3]:.3f}"
        print(f"model {k}: {v[0]} seconds={v[1]} rows={shape[0]} cols={shape[1]} "
              f"auc={auc} capture_top10={cap}")
    print(f"intent_rows_fitted_total: {intent_rows}")
    print(f"train_seconds: {r['seconds']:.1f}")
    print(f"peak_rss_gib: {r['peak_rss_gib']:.2f}")
    print(f"bare_lightgbm_seconds: {r['bare_seconds']:.1f}")
    print(f"ratio_to_bare_lightgbm: {r['seconds'] / r['bare_seconds']:.2f}")
    ok = r["seconds"] <= TARGET_SECONDS
    print(f"target_20_min: {'met' if ok else 'MISSED'}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
