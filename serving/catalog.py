"""What the service may serve: the published months, their reports and their scores.

Scoring writes ``reports/_published.json`` last, with ``os.replace``, when a month is
complete. This module re-reads it whenever the file changes (inode, mtime or size), so a
newly published or re-published month is served without a restart; a month missing from
the index is never served, even if its folders exist. Files are opened by the month the
index lists, and a read that races a folder swap (``Lake.replace_dir`` leaves a short
instant with no folder) is retried, so no request fails during a swap.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from propensity import contracts as C
from propensity.lake import Lake

log = logging.getLogger(__name__)
T = TypeVar("T")

INDEX = "reports/_published.json"
#: Bytes of cached look-up answers (JSON, a few KB per customer) kept per month.
JSON_CACHE_BYTES = 64 << 20
#: Score columns a look-up returns, in this order.
LOOKUP_COLUMNS: tuple[str, ...] = tuple(
    c for c in C.SCORES.column_names if c not in ("month", "customer_id"))


@dataclass(frozen=True)
class MonthInfo:
    month: str
    published_at: str
    run_id: str
    reports: tuple[str, ...]
    partners: int


@dataclass(frozen=True)
class PublishedIndex:
    """The parsed ``_published.json``: the latest month and every published month."""

    latest: str | None
    months: dict[str, MonthInfo]
    stamp: tuple[int, int, int] = (0, 0, 0)

    @classmethod
    def empty(cls) -> PublishedIndex:
        return cls(None, {})


def retry_swap(fn: Callable[[], T], attempts: int = 40, pause: float = 0.025) -> T:
    """Call ``fn``, retrying while a folder it reads is being swapped (about 1 s at most)."""
    for i in range(attempts):
        try:
            return fn()
        except (FileNotFoundError, OSError, pa.ArrowInvalid) as exc:
            if i == attempts - 1:
                raise
            log.debug("retrying a read during a folder swap: %s", exc)
            time.sleep(pause)
    raise AssertionError("unreachable")


@dataclass
class ScoreSnapshot:
    """One published month's scores, sorted by customer, with a customer -> rows index.

    ``table`` holds :data:`LOOKUP_COLUMNS`; ``rows[customer_id]`` is the slice of its rows
    (one per product). ``owners[customer_id]`` is the partners it belongs to (a tuple: a
    tuple of strings is not tracked by the garbage collector, so a month of a million
    customers adds nothing for a full collection to walk).
    """

    month: str
    run_id: str
    table: pa.Table
    rows: dict[str, tuple[int, int]]
    owners: dict[str, tuple[str, ...]]
    companies: dict[str, tuple[str, str]]  # customer_id -> (account_name, domain)
    model_versions: dict[str, dict[str, str | None]] = field(default_factory=dict)
    json_cache_bytes: int = JSON_CACHE_BYTES
    _domains: dict[str, str] | None = field(default=None, repr=False)
    _json: dict[str, bytes] = field(default_factory=dict, repr=False)
    _json_bytes: int = field(default=0, repr=False)
    _json_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def customer(self, customer_id: str, products: set[str] | None = None) -> list[dict]:
        span = self.rows.get(customer_id)
        if span is None:
            return []
        recs = self.table.slice(span[0], span[1] - span[0]).to_pylist()
        if products:
            recs = [r for r in recs if r["product"] in products]
        return recs

    def customer_json(self, customer_id: str) -> bytes | None:
        """The JSON of :class:`serving.models.CustomerScores` for every product, cached
        (first in, first out, at most ``json_cache_bytes`` of answers)."""
        body = self._json.get(customer_id)
        if body is None:
            from serving.models import CustomerScores, ProductScore

            recs = self.customer(customer_id)
            if not recs:
                return None
            name, domain = self.companies.get(customer_id, (None, None))
            body = CustomerScores(customer_id=customer_id, account_name=name, domain=domain,
                                  month=self.month,
                                  scores=[ProductScore(**r) for r in recs]).model_dump_json()
            body = body.encode()
            with self._json_lock:
                if customer_id not in self._json and len(body) <= self.json_cache_bytes:
                    while self._json and self._json_bytes + len(body) > self.json_cache_bytes:
                        self._json_bytes -= len(self._json.pop(next(iter(self._json))))
                    self._json[customer_id] = body
                    self._json_bytes += len(body)
        return body

    @property
    def json_cached_bytes(self) -> int:
        return self._json_bytes

    def customer_by_domain(self, domain: str) -> str | None:
        """The customer whose (lower-cased) domain is ``domain``, if any."""
        if self._domains is None:
            self._domains = {d.strip().lower(): c for c, (_, d) in self.companies.items() if d}
        return self._domains.get(domain)

    def partner_customers(self, partner: str) -> list[str]:
        return [c for c, owners in self.owners.items() if partner in owners]


class Catalog:
    """The lake as the service sees it: published months, report files, score snapshots.

    When the published index names a new latest month (or re-publishes it), background
    threads load its scores and, with ``warm_downloads``, read its large report CSVs into
    the download cache (:func:`serving.downloads.warm_published`), so neither the first
    look-up nor the first filtered download after a publication pays for reading files.
    With ``freeze_gc``, the objects alive once a month's scores are loaded (the imported
    code, the service, the score index) are moved out of the garbage collector's reach
    (:func:`gc.freeze`): full collections then walk only what requests create, and stop
    stalling the event loop for tens of milliseconds.
    """

    def __init__(self, lake: Lake | str | os.PathLike[str], check_seconds: float = 0.0,
                 cache_months: int = 3, warm_downloads: bool = False,
                 freeze_gc: bool = False) -> None:
        self.lake = lake if isinstance(lake, Lake) else Lake(lake)
        self.check_seconds = check_seconds
        self.cache_months = cache_months
        self.warm_downloads = warm_downloads
        self.freeze_gc = freeze_gc
        self._index = PublishedIndex.empty()
        self._checked = 0.0
        self._lock = threading.RLock()
        self._snapshots: OrderedDict[tuple[str, str], ScoreSnapshot] = OrderedDict()
        self._loading: dict[tuple[str, str], threading.Event] = {}
        self._ready_latest: ScoreSnapshot | None = None
        self._warmer: threading.Thread | None = None
        self._dl_warmer: threading.Thread | None = None
        self._dl_warmed: tuple[str, str] | None = None  # (month, run id) whose CSVs are warm
        self._owners_cache: tuple[tuple, dict[str, tuple[str, ...]], dict] | None = None
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    # ------------------------------------------------------------------ published index
    @property
    def index_path(self) -> Path:
        return self.lake.root / INDEX

    def index(self) -> PublishedIndex:
        """The current published index, re-read when the file changed."""
        now = time.monotonic()
        if self.check_seconds and now - self._checked < self.check_seconds and self._index.latest:
            return self._index
        self._checked = now
        try:
            st = os.stat(self.index_path)
        except FileNotFoundError:
            return self._index if self._index.latest else PublishedIndex.empty()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp == self._index.stamp:
            return self._index
        with self._lock:
            if stamp == self._index.stamp:
                return self._index
            try:
                raw = json.loads(self.index_path.read_text(encoding="utf-8"))
                months = {
                    m: MonthInfo(m, str(v.get("published_at", "")), str(v.get("run_id", "")),
                                 tuple(v.get("reports", C.REPORTS)), int(v.get("partners", 0)))
                    for m, v in raw.get("months", {}).items()
                }
                latest = raw.get("latest") or (max(months) if months else None)
                if latest is not None and latest not in months:
                    raise ValueError(f"latest month {latest} is not among the published months")
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                # keep serving what was published before; the writer replaces atomically,
                # so this is a broken file written by hand, not a half-written one
                log.error("cannot read %s (%s); keeping the previous index", self.index_path, exc)
                return self._index
            old_latest = self._index.latest
            self._index = PublishedIndex(latest, months, stamp)
            log.info("published index: latest %s, %d month(s)", latest, len(months))
        if latest is not None and latest != old_latest or self._stale_latest():
            self._warm_latest()
        self._warm_downloads()
        return self._index

    def watch(self, interval: float) -> None:
        """Check the published index every ``interval`` seconds in a daemon thread, so a
        newly published month is loaded and its downloads warmed before the first request
        asks for it (not on that request). ``interval`` 0 watches nothing."""
        if interval <= 0 or self._watcher is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.index()
                except Exception:  # keep watching: a request re-reads the index anyway
                    log.exception("checking the published index")

        self._watcher = threading.Thread(target=loop, name="watch-index", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        """Stop watching the index."""
        self._stop.set()

    def _stale_latest(self) -> bool:
        snap, idx = self._ready_latest, self._index
        if snap is None or idx.latest is None:
            return snap is None and idx.latest is not None
        return snap.month != idx.latest or snap.run_id != idx.months[idx.latest].run_id

    def months(self) -> list[str]:
        return sorted(self.index().months)

    def resolve_month(self, month: str | None) -> MonthInfo:
        """The published month asked for (the latest when ``None``); KeyError if unpublished."""
        idx = self.index()
        m = month or idx.latest
        if m is None or m not in idx.months:
            raise KeyError(m)
        return idx.months[m]

    # ------------------------------------------------------------------ report files
    def report_path(self, partner: str, month: str, report: str, fmt: str) -> Path:
        return (self.lake.root / "reports" / f"partner={partner}" / f"month={month}"
                / f"{report}.{fmt}")

    def partner_reports(self, partner: str) -> dict[str, list[str]]:
        """Published months -> the reports present for ``partner``, newest month first."""
        out: dict[str, list[str]] = {}
        for m, info in sorted(self.index().months.items(), reverse=True):
            folder = self.lake.root / "reports" / f"partner={partner}" / f"month={m}"
            present = [r for r in info.reports
                       if (folder / f"{r}.parquet").exists() or (folder / f"{r}.csv").exists()]
            if present:
                out[m] = present
        return out

    def partners(self) -> list[str]:
        base = self.lake.root / "reports"
        if not base.is_dir():
            return []
        return sorted(d.name.split("=", 1)[1] for d in base.iterdir()
                      if d.is_dir() and d.name.startswith("partner="))

    # ------------------------------------------------------------------ score snapshots
    def snapshot(self, month: str | None = None) -> ScoreSnapshot:
        """Scores of a published month (the latest when ``None``), loaded once and cached.

        For the latest month, while a newly published month is being loaded in the
        background, the previous latest keeps answering: no request waits on the load.
        """
        idx = self.index()
        if month is None:
            ready = self._ready_latest
            if ready is not None and ready.month in idx.months:
                return ready
        info = self.resolve_month(month)
        return self._load(info)

    def _load(self, info: MonthInfo) -> ScoreSnapshot:
        key = (info.month, info.run_id)
        while True:
            with self._lock:
                snap = self._snapshots.get(key)
                if snap is not None:
                    self._snapshots.move_to_end(key)
                    return snap
                ev = self._loading.get(key)
                if ev is None:
                    ev = threading.Event()
                    self._loading[key] = ev
                    owner = True
                else:
                    owner = False
            if not owner:
                ev.wait(300)
                continue
            try:
                snap = retry_swap(lambda: self._read_snapshot(info))
                with self._lock:
                    self._snapshots[key] = snap
                    while len(self._snapshots) > self.cache_months:
                        self._snapshots.popitem(last=False)
                return snap
            finally:
                with self._lock:
                    self._loading.pop(key, None)
                ev.set()

    def _warm_latest(self) -> None:
        idx = self._index
        if idx.latest is None:
            return
        info = idx.months[idx.latest]
        if self._warmer is not None and self._warmer.is_alive():
            return

        def work() -> None:
            try:
                snap = self._load(info)
                self._ready_latest = snap
                log.info("serving scores of %s (run %s)", snap.month, snap.run_id)
                if self.freeze_gc:
                    # what is alive now lives as long as the process (or this month):
                    # out of every full collection's walk. Frozen objects are still freed
                    # when their last reference goes (a replaced month is), only cycles
                    # among them would stay, and a snapshot has none.
                    gc.freeze()
            except Exception:  # keep the previous snapshot; the next request retries
                log.exception("could not load the scores of %s", info.month)
            if self._stale_latest():
                # the index moved on while loading: load the newer month too
                self._warmer = None
                self._warm_latest()

        self._warmer = threading.Thread(target=work, name="warm-latest", daemon=True)
        self._warmer.start()

    def _warm_downloads(self) -> None:
        """Read the latest month's large report CSVs into the download cache, in a thread."""
        idx = self._index
        if not self.warm_downloads or idx.latest is None:
            return
        info = idx.months[idx.latest]
        key = (info.month, info.run_id)

        def work() -> None:
            from serving.downloads import warm_published

            t0 = time.perf_counter()
            try:
                paths = sorted(p for r in info.reports for p in (self.lake.root / "reports").glob(
                    f"partner=*/month={info.month}/{r}.csv"))
                done = warm_published(paths)
                self._dl_warmed = key
                log.info("download cache: %d report CSV(s) of %s read in %.2fs", len(done),
                         info.month, time.perf_counter() - t0)
            except Exception:  # a cold download still works: it reads the file itself
                log.exception("could not warm the downloads of %s", info.month)
                self._dl_warmed = key
            cur = self._index
            if cur.latest is not None and (cur.latest, cur.months[cur.latest].run_id) != key:
                self._dl_warmer = None  # the index moved on while warming
                self._warm_downloads()

        with self._lock:
            if self._dl_warmed == key or (self._dl_warmer is not None and
                                          self._dl_warmer.is_alive()):
                return  # warm already, or a warmer is at work (it re-checks when done)
            self._dl_warmer = threading.Thread(target=work, name="warm-downloads", daemon=True)
            self._dl_warmer.start()

    def wait_downloads_warm(self, timeout: float = 60.0) -> bool:
        """Block until the latest month's report CSVs are in the download cache."""
        def warm() -> bool:
            idx = self.index()
            return idx.latest is not None and self._dl_warmed == (
                idx.latest, idx.months[idx.latest].run_id)

        return self._wait(warm, lambda: self._dl_warmer, timeout)

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until the latest published month's scores are loaded (for readiness)."""
        def ready() -> bool:
            self.index()
            return self._ready_latest is not None and not self._stale_latest()

        return self._wait(ready, lambda: self._warmer, timeout)

    @staticmethod
    def _wait(done: Callable[[], bool], worker: Callable[[], threading.Thread | None],
              timeout: float) -> bool:
        """Poll ``done`` until it holds or ``timeout`` passes, joining the background
        ``worker`` (the current one) briefly between polls."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if done():
                return True
            w = worker()
            if w is not None and w.is_alive():
                w.join(0.05)
            else:
                time.sleep(0.05)
        return False

    @property
    def ready(self) -> bool:
        return self._ready_latest is not None

    def _ownership(self) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, str]]]:
        """customer -> partners, and customer -> (account name, domain), from raw/."""
        pc_path = self.lake.path(C.PARTNER_CUSTOMERS)
        co_path = self.lake.path(C.COMPANIES)
        stamp = tuple(_tree_stamp(p) for p in (pc_path, co_path))
        cached = self._owners_cache
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        links = pq.read_table(pc_path, columns=["global_id", "customer_id"]).sort_by(
            [("customer_id", "ascending"), ("global_id", "ascending")])
        owners: dict[str, tuple[str, ...]] = {}
        for c, g in zip(links["customer_id"].to_pylist(), links["global_id"].to_pylist(),
                        strict=True):
            prev = owners.get(c)
            owners[c] = (g,) if prev is None else (*prev, g) if g not in prev else prev
        comp = pq.read_table(co_path, columns=["customer_id", "account_name", "domain"])
        companies = dict(zip(comp["customer_id"].to_pylist(),
                             zip(comp["account_name"].to_pylist(), comp["domain"].to_pylist(),
                                 strict=True), strict=True))
        self._owners_cache = (stamp, owners, companies)
        return owners, companies

    def _read_snapshot(self, info: MonthInfo) -> ScoreSnapshot:
        t0 = time.perf_counter()
        folder = self.lake.path(C.SCORES, info.month)
        table = pq.read_table(folder)
        if "month" in table.column_names:
            table = table.drop(["month"])
        table = table.sort_by([("customer_id", "ascending"), ("product", "ascending")])
        ids = table["customer_id"].to_numpy(zero_copy_only=False)
        uniq, starts = np.unique(ids, return_index=True)
        ends = np.append(starts[1:], len(ids))
        rows = {str(c): (int(s), int(e)) for c, s, e in zip(uniq, starts, ends, strict=True)}
        versions: dict[str, dict[str, str | None]] = {}
        if table.num_rows:
            mv = table.select(["product", "fit_model_version", "intent_model_version"])
            mv = mv.group_by(["product"]).aggregate([("fit_model_version", "max"),
                                                    ("intent_model_version", "max")])
            for r in mv.to_pylist():
                versions[r["product"]] = {"fit": r["fit_model_version_max"],
                                          "intent": r["intent_model_version_max"]}
        keep = [c for c in LOOKUP_COLUMNS if c in table.column_names]
        extra = [c for c in table.column_names if c not in keep and c != "customer_id"]
        table = table.select(keep + extra)
        owners, companies = self._ownership()
        log.info("loaded scores of %s: %d rows, %d customers in %.2fs", info.month,
                 table.num_rows, len(rows), time.perf_counter() - t0)
        return ScoreSnapshot(info.month, info.run_id, table, rows, owners, companies, versions)


def _tree_stamp(p: Path) -> tuple[int, int]:
    try:
        st = os.stat(p)
    except FileNotFoundError:
        return (0, 0)
    return (st.st_ino, st.st_mtime_ns)


def any_in(table: pa.Table, cols: list[str], predicate: Callable[[pa.ChunkedArray], Any]) -> Any:
    """OR of ``predicate`` over ``cols`` (nulls count as false)."""
    mask = None
    for c in cols:
        m = pc.fill_null(predicate(table[c]), False)
        mask = m if mask is None else pc.or_(mask, m)
    return mask
