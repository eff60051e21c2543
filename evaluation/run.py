"""``propensity evaluate``: replay, verify clusters, measure drift, report, log to MLflow.

Evaluation only reads the lake (features, labels, signals, raw tables and, on a sandbox
lake, truth) and writes two things: the report folder
``<lake>/evaluation/<M1>_<M2>/`` and one run in its own MLflow experiment
(``settings.evaluation.experiment``). It registers no model and never moves a champion alias.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluation import charts
from evaluation import drift as DR
from evaluation.backtest import PROBABILISTIC, SCORERS, Replay, replay
from evaluation.clusters import (
    OrderCheck,
    ranking_outside_top,
    reference_clusters,
    verify_order,
    win_rates,
)
from evaluation.metrics import backtest_metrics, monthly_metrics
from propensity.lake import Lake
from propensity.months import parse_month
from propensity.settings import Settings

log = logging.getLogger(__name__)

REPORT_ROOT = "evaluation"


@dataclass
class Evaluation:
    """The figures of one evaluation, as tables, and where they were written."""

    lake: Lake
    settings: Settings
    start: str
    end: str
    products: tuple[str, ...]
    replay: Replay
    metrics: pd.DataFrame
    monthly: pd.DataFrame
    cluster_rates: pd.DataFrame
    cell_rates: pd.DataFrame
    order_checks: list[OrderCheck]
    score_drift: pd.DataFrame
    feature_drift: pd.DataFrame
    coverage: pd.DataFrame
    delay: pd.DataFrame
    flags: list[DR.Flag]
    charts: dict[str, Path] = field(default_factory=dict)
    out: Path | None = None
    run_id: str | None = None
    command: str = ""
    score_drift_source: str = "replayed"
    #: the oracle's ranking dealt into the model's cluster sizes (sandbox lakes only)
    oracle_cluster_rates: pd.DataFrame | None = None
    oracle_order_checks: list[OrderCheck] = field(default_factory=list)
    #: model and oracle AUC outside Act now, where Evaluate, Nurture and Educate are cut
    outside_act_now: pd.DataFrame | None = None

    def oracle_check(self, product: str) -> OrderCheck | None:
        """The oracle's verdict for ``product`` (None off the sandbox)."""
        return next((c for c in self.oracle_order_checks if c.product == product), None)

    def outside_note(self, product: str) -> str:
        """'outside Act now: model AUC x (oracle y)' for ``product``, or '' without figures."""
        t = self.outside_act_now
        if t is None or product not in set(t["product"]):
            return ""
        r = t[t["product"] == product].iloc[0]
        if r["model"] != r["model"]:
            return ""
        oracle = f" (oracle {r['oracle']:.2f})" if r["oracle"] == r["oracle"] else ""
        return f"outside Act now the model ranks buyers at AUC {r['model']:.2f}{oracle}"

    @property
    def page(self) -> Path | None:
        return self.out / "index.html" if self.out else None


def report_dir(lake: Lake, start: str, end: str) -> Path:
    """Where the report of ``start``..``end`` is written."""
    return lake.root / REPORT_ROOT / f"{start}_{end}"


def top_features(rep: Replay, n: int) -> list[str]:
    """The ``n`` features with the highest mean share of gain across the intent models."""
    share: dict[str, float] = {}
    for gains in rep.importance.values():
        total = sum(gains.values()) or 1.0
        for k, v in gains.items():
            share[k] = share.get(k, 0.0) + v / total
    return [k for k, _ in sorted(share.items(), key=lambda kv: -kv[1])[:n]]


def scores_for_drift(lake: Lake, rep: Replay) -> tuple[pd.DataFrame, str]:
    """The scores whose drift is measured: the published ``scores/month=M`` tables when the
    monthly job wrote every replayed month (what partners saw), else the replay's own."""
    import pyarrow.parquet as pq

    from propensity import contracts as C

    have = set(lake.months(C.SCORES))
    if len(rep.months) >= 2 and all(m in have for m in rep.months):
        cols = ["month", "customer_id", "product", "eligible", "probability", "fit_probability"]
        parts = [pq.read_table(lake.path(C.SCORES, m), columns=cols).to_pandas().assign(month=m)
                 for m in rep.months]
        scores = pd.concat(parts, ignore_index=True)
        return scores[scores["product"].isin(rep.products)], "published"
    return rep.scores, "replayed"


def _feature_frames(lake: Lake, months: list[str], columns: list[str]) -> dict[str, pd.DataFrame]:
    import pyarrow.parquet as pq

    out = {}
    for m in months:
        p = lake.path("features", m)
        if p.exists():
            names = set(pq.read_schema(next(iter(sorted(p.glob("*.parquet"))))).names)
            out[m] = pq.read_table(p, columns=[c for c in columns if c in names]).to_pandas()
    return out


def evaluate(lake: Lake, settings: Settings, start: str, end: str,
             products: tuple[str, ...] | None = None, log_mlflow: bool = True,
             score: Callable[..., pd.DataFrame] | None = None,
             progress: Callable[[str], None] | None = None) -> Evaluation:
    """Run the whole evaluation of ``start``..``end`` and write its report.

    ``score`` replaces :func:`scoring.score_frame` (tests); ``log_mlflow=False`` skips the
    tracking run. Returns the :class:`Evaluation` with every table and the report's path.
    """
    if parse_month(start) > parse_month(end):
        raise ValueError(f"--from {start} is after --to {end}")
    t0 = time.perf_counter()
    es = settings.evaluation
    products = tuple(products or settings.products)
    rep = replay(lake, settings, start, end, products, score=score, progress=progress)
    rows = rep.rows
    metrics = backtest_metrics(rows, SCORERS, PROBABILISTIC, es.confidence)
    monthly = monthly_metrics(rows, SCORERS)
    cluster_rates = win_rates(rows, "cluster", es.confidence)
    cell_rates = win_rates(rows, "cell", es.confidence)
    checks = verify_order(cluster_rates, es)
    oracle_rates, oracle_checks = None, []
    if len(rows) and rows["oracle"].notna().any():
        ref = rows.assign(cluster=reference_clusters(rows, "oracle"))
        oracle_rates = win_rates(ref[ref["cluster"].notna()], "cluster", es.confidence)
        oracle_checks = verify_order(oracle_rates, es)
    outside = ranking_outside_top(rows) if len(rows) else None

    months = rep.months
    drift_scores, drift_source = scores_for_drift(lake, rep)
    score_drift = DR.score_psi(drift_scores, es)
    feats = top_features(rep, es.top_features)
    feature_drift = DR.feature_psi(_feature_frames(lake, months, feats), feats, es)
    coverage = DR.crawler_coverage(lake, months)
    delay = DR.label_delay(lake, months)
    flags = DR.drift_flags(score_drift, feature_drift, coverage, delay, es)

    cmd = (f"propensity evaluate --from {start} --to {end} --lake {lake.root}"
           + (f" --products {','.join(products)}" if products != tuple(settings.products)
              else ""))
    ev = Evaluation(lake, settings, start, end, products, rep, metrics, monthly, cluster_rates,
                    cell_rates, checks, score_drift, feature_drift, coverage, delay, flags,
                    command=cmd, score_drift_source=drift_source,
                    oracle_cluster_rates=oracle_rates, oracle_order_checks=oracle_checks,
                    outside_act_now=outside)
    ev.out = report_dir(lake, start, end)
    ev.out.mkdir(parents=True, exist_ok=True)
    ev.charts = _charts(ev, ev.out)
    if log_mlflow:
        ev.run_id = _log(ev)
    from evaluation import report

    report.write(ev, ev.out)
    if log_mlflow:
        _log_report(ev)
    log.info("evaluation %s..%s written to %s in %.0fs", start, end, ev.page,
             time.perf_counter() - t0)
    return ev


def _charts(ev: Evaluation, out: Path) -> dict[str, Path]:
    es = ev.settings.evaluation
    rows = ev.replay.rows
    paths: dict[str, Path] = {}
    for product, d in rows.groupby("product", sort=True):
        if not d["label"].any():
            continue
        scorers = {s: d[s].to_numpy(float) for s in SCORERS
                   if s in d.columns and d[s].notna().all()}
        span = f"{ev.start}..{ev.end}"
        paths[f"gains_{product}"] = charts.gains_chart(
            d["label"].to_numpy(), scorers, f"{product}: gains, {span}",
            out / f"gains_{product}.png")
        paths[f"calibration_{product}"] = charts.calibration_chart(
            d["label"].to_numpy(), {k: v for k, v in scorers.items() if k in PROBABILISTIC},
            f"{product}: calibration, {span}", out / f"calibration_{product}.png")
    if len(ev.cluster_rates):
        paths["win_rate"] = charts.win_rate_chart(
            ev.cluster_rates, f"Win rate by cluster ({100 * es.confidence:.0f}% intervals)",
            out / "win_rate_by_cluster.png")
    if len(rows):
        paths["score_distribution"] = charts.score_distribution_chart(
            rows, "Intent score: buyers and non-buyers", out / "score_distribution.png")
    if len(ev.score_drift):
        d = ev.score_drift[ev.score_drift["column"] == "probability"]
        paths["score_psi"] = charts.psi_chart(d, "product", "PSI of the calibrated probability",
                                              out / "score_psi.png", es.psi_warn, es.psi_alert)
    if len(ev.feature_drift):
        paths["feature_psi"] = charts.psi_chart(ev.feature_drift, "feature",
                                                "PSI of the top features",
                                                out / "feature_psi.png", es.psi_warn,
                                                es.psi_alert)
    if len(ev.coverage):
        paths["coverage"] = charts.coverage_chart(ev.coverage, "Crawler coverage",
                                                  out / "coverage.png")
    return paths


def _metric_key(*parts: str) -> str:
    return "_".join(p.replace(" ", "_").lower() for p in parts)


def _log(ev: Evaluation) -> str:
    """One run in the evaluation experiment: params, every figure as a metric, tags."""
    import mlflow

    from training import tracking as T
    from training.train import code_version

    client = T.use_tracking(ev.lake.root, ev.settings.training.tracking_uri)
    exp = T.ensure_experiment(client, ev.settings.evaluation.experiment, ev.lake.root)
    with mlflow.start_run(experiment_id=exp, run_name=f"evaluate-{ev.start}-{ev.end}") as run:
        mlflow.set_tags({"kind": "evaluation", "from": ev.start, "to": ev.end,
                         "lake": str(ev.lake.root), "code_version": code_version(),
                         "command": ev.command})
        mlflow.log_params({"from": ev.start, "to": ev.end, "products": ",".join(ev.products),
                           "months": ",".join(ev.replay.months),
                           "train_months": ev.settings.training.train_months,
                           "confidence": ev.settings.evaluation.confidence})
        metrics: dict[str, float] = {}
        for r in ev.metrics.itertuples():
            for k in ("auc", "pr_auc", "capture_top10", "brier", "ece", "capture_vs_oracle"):
                v = getattr(r, k)
                if v == v:
                    metrics[_metric_key(r.product, r.scorer, k)] = float(v)
        for r in ev.cluster_rates.itertuples():
            if r.rows:
                metrics[_metric_key(r.product, "win_rate", r.group)] = float(r.win_rate)
        for c in ev.order_checks:
            if c.status != "not enough volume":
                metrics[_metric_key(c.product, "cluster_order_holds")] = float(
                    c.status == "holds")
        for c in ev.oracle_order_checks:
            if c.status != "not enough volume":
                metrics[_metric_key(c.product, "oracle_cluster_order_holds")] = float(
                    c.status == "holds")
        if ev.outside_act_now is not None:
            for r in ev.outside_act_now.itertuples():
                for who, v in (("model", r.model), ("oracle", r.oracle)):
                    if v == v:
                        metrics[_metric_key(r.product, who, "auc_outside_act_now")] = float(v)
        for r in ev.score_drift.itertuples():
            if r.psi == r.psi:
                metrics[_metric_key(r.product, "psi", r.column, r.month.replace("-", ""))] = (
                    float(r.psi))
        metrics["drift_flags"] = float(len(ev.flags))
        mlflow.log_metrics(metrics)
        return run.info.run_id


def _log_report(ev: Evaluation) -> None:
    import mlflow

    if ev.run_id and ev.out:
        with mlflow.start_run(run_id=ev.run_id):
            mlflow.log_artifacts(str(ev.out), artifact_path="report")
