"""The monthly job: crawl, features, retrain, score, publish, with a manifest per run.

``propensity monthly --month M`` (scheduled on the 25th; README gives the cron line):

1. crawl the web into ``signals/month=M`` (``--skip-crawl`` when it already ran);
2. build features for M, and for the training window's months that lack features or whose
   labels have become available since they were built;
3. retrain intent for every product (fit too in the first month of a quarter, or when a
   product has no fit champion); the registry's gate decides whether champions move;
4. score M with the champions into ``scores/month=M``;
5. build every partner's reports and publish the month (see :mod:`scoring.publish`).

Every step writes through the lake's atomic writes and publication moves the ``latest``
pointer last, so a failed or killed run leaves the previous month's reports untouched, and
rerunning a month gives the same published month. Each run writes a manifest (input hashes,
model versions, row counts, timings) to ``runs/month=M/<run>.json`` and, when published,
beside the reports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months, month_range, parse_month
from propensity.settings import Settings

log = logging.getLogger(__name__)


class MonthlyError(RuntimeError):
    """A step of the monthly job failed; the message names the step and the cause."""


def hash_paths(paths: list[Path]) -> str:
    """SHA-256 over the files under ``paths`` (names and bytes, sorted)."""
    h = hashlib.sha256()
    for root in sorted(paths):
        files = sorted(root.rglob("*")) if root.is_dir() else [root] if root.exists() else []
        for f in files:
            if f.is_file():
                h.update(str(f.relative_to(root.parent)).encode())
                with open(f, "rb") as fh:
                    for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                        h.update(chunk)
    return h.hexdigest()


def needed_feature_months(lake: Lake, month: str, settings: Settings) -> list[str]:
    """Months whose features the run needs: the training window, the backtest, and M."""
    first_snapshot = min(lake.months(C.SUBSCRIPTIONS), default=None)
    if first_snapshot is None:
        raise MonthlyError(f"no subscription snapshots under {lake.path(C.SUBSCRIPTIONS)}")
    earliest = add_months(month, -(3 + settings.training.train_months))
    start = max(earliest, add_months(first_snapshot, 1))
    return month_range(start, month) if start <= month else []


def _labels_possible(lake: Lake, month: str) -> bool:
    have = set(lake.months(C.SUBSCRIPTIONS))
    return all(add_months(month, i) in have for i in range(3))


def build_needed_features(lake: Lake, settings: Settings, month: str, engine: str,
                          progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Build features for M (always: the crawl may be new) and months missing features or
    labels, or whose labels an older label definition built."""
    from features.build import build_features_many

    todo = []
    for m in needed_feature_months(lake, month, settings):
        has_f = lake.path("features", m).exists()
        # labels built with an older definition are rebuilt (with the month's features)
        has_l = C.label_definition(lake.path("labels", m)) == C.LABEL_DEFINITION
        if m != month and has_f and (has_l or not _labels_possible(lake, m)):
            continue
        if not [s for s in lake.months(C.SIGNALS) if s <= m]:
            log.warning("no crawl up to %s: skipping its features (no signals yet)", m)
            continue
        todo.append(m)
    reports = build_features_many(lake, todo, engine, settings.features.workers, progress)
    return {m: {"rows": r.rows, "labels": r.labels_written, "seconds": round(r.seconds, 1)}
            for m, r in reports.items()}


def run_monthly(lake: Lake, settings: Settings, month: str, *, skip_crawl: bool = False,
                proxy: str | None = None, engine: str = "duckdb",
                products: tuple[str, ...] | None = None, retrain: bool = True,
                backfill_sandbox_signals: bool = False,
                step: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the monthly job for ``month``; returns the manifest it wrote."""
    from scoring.batch import load_champions, read_features, score_month
    from scoring.publish import publish
    from scoring.reports import customer_table, partner_reports

    parse_month(month)
    products = tuple(products or settings.products)
    run_id = f"{month}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    manifest: dict[str, Any] = {
        "month": month, "run_id": run_id, "products": list(products),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "timings_s": {}, "counts": {}, "inputs": {}, "models": {}, "status": "running",
    }
    t_all = time.perf_counter()

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        if step:
            step(name)
        t0 = time.perf_counter()
        try:
            return fn()
        except Exception as exc:
            manifest["status"] = f"failed at {name}: {exc}"
            _write_run(lake, month, run_id, manifest)
            raise MonthlyError(f"monthly {month}: step '{name}' failed: {exc}") from exc
        finally:
            manifest["timings_s"][name] = round(time.perf_counter() - t0, 1)

    if backfill_sandbox_signals:
        def backfill() -> list[str]:
            from sandbox.signals import write_signals

            have = set(lake.months(C.SIGNALS))
            months = [m for m in needed_feature_months(lake, month, settings)
                      if m not in have and (m != month or skip_crawl)]
            if months:
                write_signals(lake, months)
            return months
        manifest["counts"]["backfilled_signal_months"] = timed("backfill signals", backfill)

    if not skip_crawl:
        def crawl() -> dict[str, Any]:
            from crawlers.run import run_crawl

            summary = run_crawl(month, proxy=proxy or settings.crawl.proxy, lake=lake.root)
            if not summary.finished:
                raise MonthlyError("the crawl did not finish; rerun to resume it")
            return {"signals": int(getattr(summary, "published", 0) or 0)}
        manifest["counts"]["crawl"] = timed("crawl", crawl)
    manifest["counts"]["features_built"] = timed(
        "features", lambda: build_needed_features(lake, settings, month, engine))

    if retrain:
        def train() -> list[dict[str, Any]]:
            from training import tracking as T
            from training.train import train as train_models

            client = T.use_tracking(lake.root, settings.training.tracking_uri)
            quarter = parse_month(month).month in settings.training.fit_refresh_months
            need_fit = [p for p in products
                        if quarter or T.get_champion(client, T.model_name(p, "fit")) is None]
            results = train_models(lake, settings, month, products, kinds=("intent",))
            if need_fit:
                results += train_models(lake, settings, month, tuple(need_fit), kinds=("fit",))
            return [{"product": r.product, "kind": r.kind, "status": r.status,
                     "version": r.version, "promoted": r.promoted, "reason": r.reason,
                     "capture_top10": r.metrics.get("capture_top10")} for r in results]
        manifest["training"] = timed("train", train)

    champions = timed("load champions",
                      lambda: load_champions(lake, settings, products, strict=False))
    if not champions.models:
        raise MonthlyError(f"monthly {month}: no product has a champion model to score with; "
                           "train first (too few buyers in the lake?)")
    manifest["models"] = champions.versions
    manifest["scoring"] = {"attribution": settings.scoring.attribution,
                           "chunk_rows": settings.scoring.chunk_rows,
                           "reasons": settings.scoring.reasons}
    manifest["unscored_products"] = champions.missing
    scored = tuple(champions.models)
    rep = timed("score", lambda: score_month(lake, settings, month, scored, engine,
                                             champions=champions))
    manifest["counts"]["scores"] = rep.rows
    manifest["counts"]["customers"] = rep.customers
    manifest["counts"]["clusters"] = rep.clusters

    def reports() -> dict[str, Any]:
        scores = pd.read_parquet(lake.path(C.SCORES, month))
        feats = read_features(lake, month)
        companies = lake.read(C.COMPANIES).to_pandas()
        agreements = lake.read(C.AGREEMENTS).to_pandas() if lake.path(C.AGREEMENTS).exists() \
            else None
        customers = customer_table(scores, feats, companies, agreements, month)
        partners = lake.read(C.PARTNERS).to_pandas()
        book = lake.read(C.PARTNER_CUSTOMERS, columns=["global_id", "customer_id"]).to_pandas()
        manifest["inputs"] = {
            "raw": {c.name: hash_paths([lake.path(c)]) for c in C.RAW_TABLES
                    if not c.monthly},
            "subscriptions_snapshot": hash_paths([lake.path(C.SUBSCRIPTIONS,
                                                            add_months(month, -1))]),
            "signals": hash_paths([lake.path(C.SIGNALS, m) for m in lake.months(C.SIGNALS)
                                   if m <= month]),
            "features": hash_paths([lake.path("features", month)]),
            "scores": hash_paths([lake.path(C.SCORES, month)]),
        }
        manifest["counts"]["features_rows"] = len(feats)
        manifest["status"] = "published"
        manifest["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        manifest["timings_s"]["total"] = round(time.perf_counter() - t_all, 1)
        return publish(lake, month, partner_reports(customers, partners, book), manifest)
    entry = timed("publish", reports)
    manifest["counts"]["report_rows"] = entry["rows"]
    manifest["counts"]["partners"] = entry["partners"]
    manifest["timings_s"]["total"] = round(time.perf_counter() - t_all, 1)
    _write_run(lake, month, run_id, manifest)
    return manifest


def _write_run(lake: Lake, month: str, run_id: str, manifest: dict[str, Any]) -> Path:
    d = Path(lake.root) / "runs" / f"month={month}"
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{run_id}.json"
    p.write_text(json.dumps(manifest, indent=1, default=str))
    return p
