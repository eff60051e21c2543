"""The evaluation report: one self-contained HTML page beside its PNG charts.

Plain HTML (no template engine, no scripts), so it opens from a file system, an MLflow
artifact view or an e-mail attachment alike. Every table is built from the result's data
frames; the page says in words where the cluster order fails and which thresholds drift
crossed.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from propensity.contracts import CLUSTERS

if TYPE_CHECKING:
    from evaluation.run import Evaluation

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1200px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:0.6em 0 1.4em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f2f2f2}td.l,th.l{text-align:left}
.ok{color:#1e7b34;font-weight:600}.bad{color:#b3261e;font-weight:600}
.warn{color:#a15c00;font-weight:600}img{max-width:100%;border:1px solid #eee;margin:4px 0}
.note{color:#555;font-size:13px}code{background:#f6f6f6;padding:1px 4px}
"""


def pct(v: float, digits: int = 1) -> str:
    return "" if v is None or v != v else f"{100 * v:.{digits}f}%"


def num(v: float, digits: int = 3) -> str:
    return "" if v is None or v != v else f"{v:.{digits}f}"


def table(df: pd.DataFrame, formats: Mapping[str, Callable[[object], str]] | None = None,
          left: tuple[str, ...] = ()) -> str:
    """An HTML table of ``df`` with per-column formatters; ``left`` columns align left."""
    formats = formats or {}
    head = "".join(f"<th class='{'l' if c in left else ''}'>{html.escape(str(c))}</th>"
                   for c in df.columns)
    body = []
    for _, r in df.iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            text = formats[c](v) if c in formats else ("" if v is None or (
                isinstance(v, float) and v != v) else str(v))
            cells.append(f"<td class='{'l' if c in left else ''}'>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _interval(v: float, lo: float, hi: float, as_pct: bool = True) -> str:
    if v != v:
        return "n/a"
    if as_pct:
        return f"{100 * v:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"


def _img(path: Path | None, alt: str) -> str:
    return f"<img src='{html.escape(path.name)}' alt='{html.escape(alt)}'>" if path else ""


def _cluster_table(rates: pd.DataFrame) -> str:
    """One row per product, one column per cluster: win rate [interval], customers, buyers."""
    wide = rates.assign(cell=[_interval(r.win_rate, r.low, r.high)
                              + f" (n={r.rows}, {r.buyers} bought)" for r in rates.itertuples()])
    wide = wide.pivot(index="product", columns="group", values="cell").reindex(
        columns=list(CLUSTERS)).reset_index()
    return table(wide, left=("product",))


def render(ev: Evaluation) -> str:
    """The report page of one evaluation."""
    s = ev.settings.evaluation
    conf = f"{100 * s.confidence:.0f}%"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Evaluation "
             f"{ev.start}..{ev.end}</title><style>{CSS}</style></head><body>",
             f"<h1>Evaluation {html.escape(ev.start)} .. {html.escape(ev.end)}</h1>",
             f"<p class='note'>Lake <code>{html.escape(str(ev.lake.root))}</code>; products "
             f"{html.escape(', '.join(ev.products))}; months replayed "
             f"{html.escape(', '.join(ev.replay.months))}; intervals at {conf}. Reproduce: "
             f"<code>{html.escape(ev.command)}</code>"
             + (f"; MLflow run <code>{html.escape(ev.run_id)}</code>" if ev.run_id else "")
             + "</p>"]

    # verdicts first: what a reader needs to know
    parts.append("<h2>Cluster verification</h2><p>Win rate: share of a cluster's eligible "
                 "customers that bought the product in the 3 months after the scoring month. "
                 "Expected order: Act now &gt; Evaluate &gt; Nurture &gt; Educate. A product "
                 f"is checked with at least {s.min_product_buyers} buyers; a cluster takes "
                 f"part with at least {s.min_cluster_rows} customers.</p><ul>")
    for c in ev.order_checks:
        cls = {"holds": "ok", "fails": "bad"}.get(c.status, "warn")
        o = ev.oracle_check(c.product)
        ref = (f" <span class='note'>(oracle in the same cluster sizes: "
               f"{html.escape(o.verdict)})</span>" if o else "")
        outside = ev.outside_note(c.product) if c.status == "fails" else ""
        outside = f" <span class='note'>({html.escape(outside)})</span>" if outside else ""
        parts.append(f"<li><span class='{cls}'>{html.escape(c.status)}</span> "
                     f"{html.escape(c.message)}{ref}{outside}</li>")
    parts.append("</ul>")
    if ev.oracle_order_checks:
        parts.append("<p class='note'>The oracle line deals the market's true 3-month "
                     "probability into the clusters in the numbers the model put there. Where "
                     "the oracle breaks the order too, the volume cannot tell the clusters "
                     "apart; where only the model breaks it, the model is the cause.</p>")
    if ev.outside_act_now is not None and len(ev.outside_act_now):
        parts.append("<h3>Ranking outside Act now</h3><p class='note'>Evaluate, Nurture and "
                     "Educate are cut from the customers below Act now. The AUC among them "
                     "says how well each ranks buyers there: near 0.5, those three clusters "
                     "win at about the same rate.</p>"
                     + table(ev.outside_act_now, {"model": num, "oracle": num}))
    parts.append(_img(ev.charts.get("win_rate"), "win rate by cluster"))
    parts.append(_cluster_table(ev.cluster_rates))
    if ev.oracle_cluster_rates is not None and len(ev.oracle_cluster_rates):
        parts.append("<h3>Win rate by cluster, oracle in the same cluster sizes</h3>"
                     + _cluster_table(ev.oracle_cluster_rates))
    parts.append("<h3>Win rate by cell</h3><p class='note'>Rows: intent letter (A High .. D "
                 "Very low); columns: fit digit (1 High .. 4 Very low); each cell: win rate "
                 "[interval] and customers.</p>")
    for product, d in ev.cell_rates.groupby("product", sort=True):
        d = d.assign(letter=d["group"].str[0], digit=d["group"].str[1],
                     text=[_interval(r.win_rate, r.low, r.high) + f" n={r.rows}" if r.rows
                           else "" for r in d.itertuples()])
        grid = d.pivot(index="letter", columns="digit", values="text").reset_index()
        parts.append(f"<h4>{html.escape(str(product))}</h4>"
                     + table(grid.rename(columns={"letter": "intent"}), left=("intent",)))

    parts.append("<h2>Backtest: model, oracle and baselines</h2><p>Pooled over the replayed "
                 "months, eligible customers only. Capture: share of buyers found in the top "
                 "10% of each month's list. Oracle: the market's true 3-month probability "
                 "(sandbox only), the ceiling. Baselines: firmographics-only model; most "
                 "recent signal first.</p>")
    m = ev.metrics.copy()
    m["AUC"] = [_interval(r.auc, r.auc_low, r.auc_high, False) for r in m.itertuples()]
    m["top-10% capture"] = [_interval(r.capture_top10, r.capture_low, r.capture_high)
                            for r in m.itertuples()]
    m = m[["product", "scorer", "rows", "buyers", "base_rate", "AUC", "pr_auc",
           "top-10% capture", "capture_vs_oracle", "brier", "ece"]]
    parts.append(table(m, {"base_rate": pct, "pr_auc": num, "capture_vs_oracle": pct,
                           "brier": lambda v: num(v, 4), "ece": lambda v: num(v, 4)},
                       left=("product", "scorer")))
    if len(ev.monthly):
        mm = ev.monthly[ev.monthly["scorer"] == "model"][["month", "product", "rows", "buyers",
                                                           "auc", "capture_top10"]]
        parts.append("<h3>Model by month</h3>" + table(mm, {"auc": num,
                                                            "capture_top10": pct},
                                                       left=("month", "product")))
    for product in ev.products:
        g, c = ev.charts.get(f"gains_{product}"), ev.charts.get(f"calibration_{product}")
        if g or c:
            parts.append(f"<h3>{html.escape(product)}</h3>{_img(g, 'gains')}"
                         f"{_img(c, 'calibration')}")
    parts.append("<h3>Score distributions</h3>"
                 + _img(ev.charts.get("score_distribution"), "score distributions"))

    parts.append("<h2>Drift between consecutive months</h2>")
    if ev.flags:
        parts.append("<p class='bad'>Thresholds crossed:</p><ul>" + "".join(
            f"<li>{html.escape(f.message)}</li>" for f in ev.flags) + "</ul>")
    else:
        parts.append("<p class='ok'>No drift threshold crossed.</p>")
    parts.append(f"<p class='note'>PSI &lt; {s.psi_warn} stable, {s.psi_warn}-{s.psi_alert} "
                 f"moderate, &ge; {s.psi_alert} shifted (flagged). Scores are percentiles within "
                 "their month, so score drift is measured on the calibrated probability and the "
                 "fit probability, of the "
                 + ("published <code>scores/month=M</code> tables"
                    if ev.score_drift_source == "published" else "replay's models (no "
                    "published scores for every replayed month)") + ".</p>")
    parts.append("<h3>Scores</h3>" + _img(ev.charts.get("score_psi"), "score PSI"))
    if len(ev.score_drift):
        sd = ev.score_drift.pivot_table(index=["product", "column"], columns="month",
                                        values="psi").reset_index()
        parts.append(table(sd, {c: num for c in sd.columns if c not in ("product", "column")},
                           left=("product", "column")))
    parts.append("<h3>Top features</h3>" + _img(ev.charts.get("feature_psi"), "feature PSI"))
    if len(ev.feature_drift):
        fd = ev.feature_drift.pivot_table(index="feature", columns="month",
                                          values="psi").reset_index()
        parts.append(table(fd, {c: num for c in fd.columns if c != "feature"},
                           left=("feature",)))
    parts.append("<h3>Crawler coverage</h3><p class='note'>Recent: published in the 90 days "
                 "before the cut-off, resolved to a company of the book.</p>"
                 + _img(ev.charts.get("coverage"), "coverage"))
    parts.append(table(ev.coverage, {"unresolved_share": pct, "signals_per_company": num,
                                     "no_signal_share": pct}, left=("month",)))
    parts.append("<h3>Label delay</h3><p class='note'>Won opportunities that label each "
                 "cut-off: when in the 3-month window they closed; opportunities of the window "
                 "still open at export; how many months the newest labels trail the newest "
                 "features.</p>")
    parts.append(table(ev.delay, {c: pct for c in ev.delay.columns if c.startswith("share_")}
                       | {"median_days_to_win": lambda v: num(v, 0)}, left=("month",)))
    if ev.replay.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(
            f"<li>{html.escape(n)}</li>" for n in ev.replay.notes) + "</ul>")
    tm = "".join(f"<li>{html.escape(m)}: trained on {html.escape(v[0])}..{html.escape(v[-1])} "
                 f"({len(v)} cut-offs)</li>" for m, v in ev.replay.train_months.items())
    parts.append(f"<h2>Training windows</h2><ul>{tm}</ul></body></html>")
    return "\n".join(parts)


def write(ev: Evaluation, out: Path) -> Path:
    """Write ``index.html`` and the tables as CSV into ``out``; returns the page's path."""
    out.mkdir(parents=True, exist_ok=True)
    ev.metrics.to_csv(out / "metrics.csv", index=False)
    ev.monthly.to_csv(out / "metrics_by_month.csv", index=False)
    ev.cluster_rates.to_csv(out / "win_rate_by_cluster.csv", index=False)
    ev.cell_rates.to_csv(out / "win_rate_by_cell.csv", index=False)
    if ev.oracle_cluster_rates is not None:
        ev.oracle_cluster_rates.to_csv(out / "oracle_win_rate_by_cluster.csv", index=False)
    if ev.outside_act_now is not None:
        ev.outside_act_now.to_csv(out / "auc_outside_act_now.csv", index=False)
    ev.score_drift.to_csv(out / "score_psi.csv", index=False)
    ev.feature_drift.to_csv(out / "feature_psi.csv", index=False)
    ev.coverage.to_csv(out / "crawler_coverage.csv", index=False)
    ev.delay.to_csv(out / "label_delay.csv", index=False)
    page = out / "index.html"
    page.write_text(render(ev), encoding="utf-8")
    return page
