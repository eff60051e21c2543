"""The builder: read and validate the inputs, run the definitions on an engine, write atomically.

One function, :func:`build_features`, serves training (past months, with labels), backtests
(any past month) and monthly scoring (the latest month, where labels cannot exist yet): only
the month changes, never the code path.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from features import definitions as D
from features.catalogue import features_contract, labels_contract
from features.engines import Engine, get_engine
from features.validate import Checked, Policy, validate_input
from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months, parse_month

log = logging.getLogger(__name__)

QUARANTINE_ROOT = "quarantine"


class MissingInputError(FileNotFoundError):
    """A table the month needs is not in the lake; the message says which and how to make it."""


@dataclass
class BuildReport:
    """What one build did: where it wrote, how many rows, what it quarantined, how long."""

    month: str
    engine: str
    features_path: Path
    rows: int
    columns: int
    labels_path: Path | None
    labels_note: str
    quarantined: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantine_paths: dict[str, Path] = field(default_factory=dict)
    signals_used: int = 0
    signals_unresolved: int = 0
    seconds: float = 0.0

    @property
    def labels_written(self) -> bool:
        return self.labels_path is not None


def quarantine_path(lake: Lake, table: str, month: str) -> Path:
    """Where the quarantined rows of ``table`` for the build of ``month`` are written."""
    return lake.path(f"{QUARANTINE_ROOT}/{table}", month)


def _need(lake: Lake, contract: C.TableContract) -> Path:
    p = lake.path(contract)
    if not p.exists():
        raise MissingInputError(f"table {contract.name} not found at {p}")
    return p


def _signal_partitions(lake: Lake, month: str) -> list[Path]:
    months = [m for m in lake.months(C.SIGNALS) if m <= month]
    if not months:
        raise MissingInputError(
            f"no signals for {month} under {lake.path(C.SIGNALS)}: run the crawl for {month} "
            "(or, on a sandbox lake, sandbox.signals.write_signals)")
    return [lake.path(C.SIGNALS, m) for m in months]


def _write_quarantine(lake: Lake, engine: Engine, checked: Checked, month: str,
                      report: BuildReport) -> None:
    path = quarantine_path(lake, checked.table, month)
    if not checked.counts:
        if path.exists():  # a rerun on repaired inputs must not leave stale quarantine behind
            import shutil

            shutil.rmtree(path)
        return
    rows = engine.to_arrow(checked.quarantine)
    lake.write(f"{QUARANTINE_ROOT}/{checked.table}", rows, month=month)
    report.quarantined[checked.table] = dict(checked.counts)
    report.quarantine_paths[checked.table] = path
    log.warning("quarantined %d row(s) of %s to %s", rows.num_rows, checked.table, path)


def build_features(lake: Lake | str | Path, month: str, engine: str | Engine = "duckdb", *,
                   labels: bool = True, policy: Policy | None = None,
                   engine_options: dict[str, Any] | None = None) -> BuildReport:
    """Build ``features/month=M`` (and ``labels/month=M`` when possible) for ``month``.

    Reads raw/companies, raw/subscriptions (``M-1``, plus ``M..M+2`` for labels),
    raw/agreements, raw/opportunities and signals/ (crawls up to ``M``); validates each
    (refusing or quarantining per :mod:`features.validate`); runs the definitions on ``engine``
    (a name or an :class:`Engine`); writes each table atomically with :meth:`Lake.write`.
    Labels are skipped, with ``labels_note`` saying why, when the lake does not reach ``M+2``.
    """
    t0 = time.perf_counter()
    parse_month(month)
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    snapshot = add_months(month, -1)
    have = set(lake.months(C.SUBSCRIPTIONS))
    if snapshot not in have:
        raise MissingInputError(
            f"features for {month} need the subscription snapshot {snapshot} (the book at the "
            f"cut-off) under {lake.path(C.SUBSCRIPTIONS)}; the lake has "
            f"{sorted(have)[0] + '..' + sorted(have)[-1] if have else 'none'}")
    label_months = D.label_months(month)
    missing_label = [m for m in label_months if m not in have]
    labels_note = ""
    if not labels:
        labels_note = "labels not requested"
    elif missing_label:
        labels_note = (f"no labels for {month}: they need the subscription snapshots "
                       f"{label_months[0]}..{label_months[-1]} and the lake ends at "
                       f"{max(have)}; the 3-month window after the cut-off is not complete")
    want_labels = labels and not missing_label

    own = isinstance(engine, str)
    eng = get_engine(engine, **(engine_options or {})) if isinstance(engine, str) else engine
    try:
        report = BuildReport(month, eng.name, lake.path("features", month), 0, 0, None,
                             labels_note)
        sub_months = [snapshot, *(label_months if want_labels else [])]
        raw = [
            (C.COMPANIES, eng.read([_need(lake, C.COMPANIES)], "companies"), None),
            (C.SUBSCRIPTIONS, eng.read([lake.path(C.SUBSCRIPTIONS, m) for m in sub_months],
                                       "subscriptions", partitioned=True), "month"),
            (C.AGREEMENTS, eng.read([_need(lake, C.AGREEMENTS)], "agreements"), None),
            (C.OPPORTUNITIES, eng.read([_need(lake, C.OPPORTUNITIES)], "opportunities"), None),
            (C.SIGNALS, eng.read(_signal_partitions(lake, month), "signals", partitioned=True),
             "month"),
        ]
        checked: dict[str, Checked] = {}
        for contract, table, part in raw:
            where = str(lake.path(contract))
            # signals are scanned once by the features query: not worth keeping a copy
            checked[contract.name] = validate_input(
                eng, table, contract, where, policy, partition=part,
                materialize=contract is not C.SIGNALS)
        for c in checked.values():
            _write_quarantine(lake, eng, c, month, report)
        log.info("inputs validated (%.1fs)", time.perf_counter() - t0)

        subs = checked["subscriptions"].clean
        inputs = D.Inputs(
            companies=checked["companies"].clean,
            subscriptions=subs.filter(subs.month == snapshot),
            agreements=checked["agreements"].clean,
            opportunities=checked["opportunities"].clean,
            signals=checked["signals"].clean,
        )
        # the per-customer signal aggregates feed several families and the coverage, and each
        # family is computed on its own before the join: both keep the engine's plans small
        cells = eng.materialize(D.signal_cells(inputs.signals, month), "signal_cells")
        cov = eng.to_arrow(D.signal_coverage(cells)).to_pylist()[0]
        report.signals_used = int(cov["signals"] or 0)
        report.signals_unresolved = int(cov["unresolved"] or 0)
        if report.signals_used:
            log.info("signals usable at %s: %d, unresolved (no customer): %d (%.1f%%)", month,
                     report.signals_used, report.signals_unresolved,
                     100 * report.signals_unresolved / report.signals_used)
        families = []
        for f in D.feature_families(inputs, month, cells):
            family = f.specs[0].family
            families.append(D.Defined(eng.materialize(f.table, f"family_{family}"), f.specs))
            log.info("family %-8s %3d columns (%.1fs)", family, len(f.specs),
                     time.perf_counter() - t0)
        # rows in no particular order: readers join or sort on customer_id
        feats = D.assemble(families, ordered=False)
        contract = features_contract()
        schema = contract.schema()  # the engine's types, with the contract's not-null flags
        rows = 0

        def counted() -> Any:
            nonlocal rows
            for part in eng.to_batches(feats.table):
                rows += part.num_rows
                yield part.cast(schema)
            if rows == 0:  # nobody known at this cut-off: still write the (empty) table
                yield schema.empty_table()

        report.features_path = lake.write(contract, counted(), month=month)
        report.rows, report.columns = rows, len(contract.columns)
        log.info("features for %s: %d rows x %d columns -> %s", month, rows,
                 len(contract.columns), report.features_path)

        if want_labels:
            lab = D.label_table(inputs.companies, inputs.opportunities, subs, month)
            lc = labels_contract()
            table = eng.to_arrow(lab.table).cast(lc.schema()).replace_schema_metadata(
                {C.LABEL_DEFINITION_KEY: C.LABEL_DEFINITION.encode()})
            report.labels_path = lake.write(lc, table, month=month)
            log.info("labels for %s -> %s", month, report.labels_path)
        elif labels:
            log.warning(labels_note)
    finally:
        if own:
            eng.close()
    report.seconds = time.perf_counter() - t0
    return report


def _build_in_worker(root: str, month: str, engine: str) -> BuildReport:
    """Process-pool entry point: one month's build in a fresh interpreter."""
    logging.getLogger("features").setLevel(logging.WARNING)
    return build_features(Lake(root), month, engine)


def build_features_many(lake: Lake | str | Path, months: list[str], engine: str = "duckdb",
                        workers: int = 1, progress: Any = None) -> dict[str, BuildReport]:
    """Build several months, ``workers`` at a time (each in its own process).

    Months are independent (each reads the raw tables as of its own cut-off and writes its own
    partitions atomically), and one month's build leaves a core idle about a third of the
    time (validation, Arrow writes, Python between the engine's queries), so two processes
    finish a backfill of many months sooner on two cores. Workers are spawned, not forked (the
    engine holds threads), and each costs its own engine memory: keep ``workers`` at 1 on
    large books. ``progress(month)`` is called as each month finishes; the first failure is
    raised once the pool has finished.
    """
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    workers = max(1, min(workers, len(months)))
    out: dict[str, BuildReport] = {}
    if workers == 1 or engine != "duckdb":
        for m in months:
            out[m] = build_features(lake, m, engine)
            if progress:
                progress(m)
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {pool.submit(_build_in_worker, str(lake.root), m, engine): m for m in months}
        for fut in as_completed(futures):
            m = futures[fut]
            out[m] = fut.result()
            log.info("features for %s: %d rows (%.1fs, in a worker)", m, out[m].rows,
                     out[m].seconds)
            if progress:
                progress(m)
    return {m: out[m] for m in months}
