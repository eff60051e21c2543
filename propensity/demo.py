"""``propensity demo``: every stage on the embedded default, in order, with progress.

1. the sandbox market (generated once; ``--fresh`` regenerates it);
2. its synthetic web, served on loopback in a child process;
3. crawl history: months before the current one get the stand-in signals a crawler running
   since then would have collected (sandbox only), then the current month is crawled for real
   by the Scrapy project through the web's proxy;
4. the monthly job (features, training, scoring, reports, publishing);
5. an evaluation report over the last months whose outcomes are known;
6. a demo partner key, then the partner service (BentoML) until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months, month_range
from propensity.settings import load_settings

console = Console(stderr=True)


@contextlib.contextmanager
def synthetic_web(lake: Path, port: int, month: str) -> Iterator[str]:
    """The sandbox web in a child process (it must not share the crawler's CPU thread)."""
    cmd = [sys.executable, "-m", "propensity.cli", "sandbox", "serve", "--port", str(port),
           "--month", month, "--lake", str(lake)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the synthetic web did not start (exit {proc.returncode}): "
                                   f"{' '.join(cmd)}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the synthetic web did not open port {port} in 90 s")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_demo(lake: Path | None = None, port: int = 3000, web_port: int = 8090,
             fresh: bool = False, serve: bool = True) -> dict[str, float]:
    """Run every stage on the embedded default; returns the seconds each step took."""
    import logging

    from sandbox import cli as sandbox_cli

    for name in ("mlflow", "alembic", "urllib3", "git", "scrapy", "py4j", "bentoml"):
        logging.getLogger(name).setLevel(logging.WARNING)
    settings = load_settings(lake=lake)
    lk = Lake(settings.lake)
    timings: dict[str, float] = {}
    t_all = time.perf_counter()

    def step(title: str) -> float:
        console.rule(f"[bold]{title}")
        return time.perf_counter()

    t = step("1/6 sandbox market")
    if fresh or not lk.path(C.COMPANIES).exists():
        sandbox_cli.generate(companies=None, months=None, seed=None, end_month=None,
                             lake=settings.lake)
    else:
        console.print(f"market already in {settings.lake} (use --fresh to regenerate)")
    timings["market"] = time.perf_counter() - t
    from sandbox.market import market_spec

    spec = market_spec(lk, settings.sandbox)
    month = add_months(spec.end_month, 1)

    t = step(f"2/6 history signals and the crawl of {month}")
    from sandbox.signals import write_signals

    # the monthly job's training window, plus the evaluation's (a replay of the latest
    # labelled month trains on cut-offs whose label windows closed before it)
    first = max(add_months(month, -(settings.training.train_months + 9)),
                add_months(min(lk.months(C.SUBSCRIPTIONS)), 1))
    history = [m for m in (month_range(first, add_months(month, -1))
                           if first < month else [])
               if m not in set(lk.months(C.SIGNALS))]
    if history:
        console.print(f"stand-in signals for {history[0]}..{history[-1]} (what a crawler "
                      "running since then would have collected)")
        write_signals(lk, history)
    with synthetic_web(settings.lake, web_port, month) as proxy:
        console.print(f"crawling the synthetic web of {month} through {proxy} (Scrapy, in "
                      "its own process: Twisted's reactor runs once per process)")
        cmd = [sys.executable, "-m", "crawlers", "crawl", "--month", month, "--lake",
               str(settings.lake), "--proxy", proxy]
        done = subprocess.run(cmd, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"the crawl failed (exit {done.returncode}): {' '.join(cmd)}; "
                               "rerun the demo to resume it")
        console.print(f"crawl: {lk.read(C.SIGNALS, month=month).num_rows} signals stored")
    timings["crawl"] = time.perf_counter() - t

    t = step(f"3/6 monthly job for {month}: features, training, scoring, reports")
    from scoring.monthly import run_monthly

    manifest = run_monthly(lk, settings, month, skip_crawl=True,
                           step=lambda s: console.print(f"[cyan]- {s}"))
    timings["monthly"] = time.perf_counter() - t
    console.print(f"published {month} for {manifest['counts']['partners']} partners "
                  f"({manifest['timings_s']})")

    t = step("4/6 evaluation report")
    report = _evaluation(lk, settings, month)
    timings["evaluation"] = time.perf_counter() - t

    t = step("5/6 demo partner key")
    from serving.keys import add_key

    book = lk.read(C.PARTNER_CUSTOMERS, columns=["global_id"]).to_pandas()
    partner = str(book["global_id"].value_counts().index[0])
    key = add_key(lk, partner)
    timings["key"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t_all

    console.rule("[bold green]done")
    console.print(f"all stages in {timings['total'] / 60:.1f} min "
                  + ", ".join(f"{k} {v:.0f}s" for k, v in timings.items() if k != "total"))
    db = Path(settings.lake).resolve() / "mlflow" / "mlflow.db"
    console.print(
        f"- download page: http://127.0.0.1:{port}/  (demo partner {partner}, key {key})\n"
        f"- MLflow UI:     mlflow ui --backend-store-uri sqlite:///{db} --port 5000\n"
        f"- evaluation:    {report or 'not written (see the log above)'}\n"
        f"- reports:       {Path(settings.lake).resolve() / 'reports'}")
    if serve:
        console.rule(f"[bold]6/6 partner service on http://127.0.0.1:{port} (Ctrl-C to stop)")
        from serving.run import serve as serve_forever

        serve_forever(settings.lake, port=port)
    return timings


def _evaluation(lk: Lake, settings, month: str) -> Path | None:
    """Backtest the latest month whose outcomes are known (a one-month replay)."""
    from evaluation.run import evaluate

    labelled = lk.months("labels")
    if not labelled:
        console.print("no labelled month yet: evaluation skipped")
        return None
    last = labelled[-1]
    from features.build import build_features_many

    start = max(add_months(last, -(6 + settings.training.train_months)),
                add_months(min(lk.months(C.SUBSCRIPTIONS)), 1))
    todo = [m for m in month_range(start, last)
            if C.label_definition(lk.path("labels", m)) != C.LABEL_DEFINITION
            and [s for s in lk.months(C.SIGNALS) if s <= m]]
    if todo:
        console.print(f"features and labels for {todo[0]}..{todo[-1]} (the replay's training "
                      "window)")
        build_features_many(lk, todo, "duckdb", settings.features.workers)
    try:
        result = evaluate(lk, settings, last, last)
    except Exception as exc:  # the demo goes on to serve; the error is shown, not hidden
        console.print(f"[red]evaluation failed: {exc}")
        return None
    return result.page
