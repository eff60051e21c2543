"""The crawl's own durability: a job directory that survives ``kill -9``.

Scrapy's ``JOBDIR`` is not safe against a hard kill (its dupefilter file is buffered and its
disk queues can be cut mid-record), so a crawl keeps its own state, by default under
``<lake>/crawl_state/jobs/month=M``::

    job.json                       month, started_at, status (running | finished), runs
    staging/part-<spider>-....parquet   signals and page-done records, in small batches

Every staging part is written to a hidden temporary file and renamed into place, so a killed
crawl leaves only whole parts (readers ignore names starting with ``.``). A page's signals are
always yielded before its page-done record and both travel in the same batch, so a page is
either completely in staging or not at all. On restart the job reloads the pages already done
(they are not fetched again) and the keys already stored (the dedupe filter), re-walks the
discovery pages and finishes the rest. :meth:`JobDir.publish` then writes the month's
partition once, de-duplicated, with :meth:`propensity.lake.Lake.write` (atomic).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crawlers.items import EXTRA_COLUMNS, TABLE_COLUMNS, table_schema
from propensity.contracts import SIGNALS
from propensity.lake import Lake
from propensity.months import parse_month

log = logging.getLogger(__name__)

STATE_DIR = "crawl_state"

# Staging rows: the table's columns plus the record kind and the page's request URL.
STAGING_SCHEMA = pa.schema(
    [pa.field("record", pa.string(), nullable=False), pa.field("request_url", pa.string())]
    + [pa.field(f.name, f.type, nullable=True) for f in table_schema()]
)


def signal_id(url: str, topic: str, customer_id: str | None) -> str:
    """Stable id of a signal: a hash of (url, topic, customer_id)."""
    raw = f"{url}\x1f{topic}\x1f{customer_id or ''}".encode()
    return hashlib.blake2b(raw, digest_size=10).hexdigest()


def state_root(lake_root: str | os.PathLike[str]) -> Path:
    """Where crawl state lives for a lake: ``<lake>/crawl_state``."""
    return Path(lake_root) / STATE_DIR


def default_job_dir(lake_root: str | os.PathLike[str], month: str) -> Path:
    parse_month(month)
    return state_root(lake_root) / "jobs" / f"month={month}"


class JobDir:
    """One crawl job's directory: status, staging parts, and the resume sets."""

    _open: dict[Path, JobDir] = {}
    _lock = threading.Lock()

    def __init__(self, path: Path, month: str) -> None:
        self.path = path
        self.month = month
        self.staging = path / "staging"
        self.meta: dict[str, Any] = {}
        self._done: set[str] | None = None
        self._keys: set[tuple[str, str, str]] | None = None
        self._seq = 0

    # -- lifecycle ---------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], month: str, fresh: bool = False,
             attach: bool = False) -> JobDir:
        """Open (once per process) the job at ``path`` for ``month``.

        A job left ``running`` (killed or interrupted) is resumed; a ``finished`` job, a job
        of another month, or ``fresh=True`` starts over with empty staging. ``attach=True``
        joins a job another process started (a crawl's worker processes): its state is read,
        never reset.
        """
        p = Path(path).resolve()
        with cls._lock:
            job = cls._open.get(p)
            if job is not None and job.month == month:
                return job
            job = cls(p, month)
            if attach:
                job.meta = json.loads((p / "job.json").read_text())
                if job.meta.get("month") != month or job.meta.get("status") != "running":
                    raise RuntimeError(f"no running job for {month} to attach to in {p}")
                job.staging.mkdir(parents=True, exist_ok=True)
            else:
                job._start(fresh)
            cls._open[p] = job
            return job

    def _start(self, fresh: bool) -> None:
        meta_path = self.path / "job.json"
        meta: dict[str, Any] = {}
        if meta_path.exists():
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                meta = {}
        resume = (not fresh and meta.get("status") == "running"
                  and meta.get("month") == self.month)
        if not resume:
            shutil.rmtree(self.staging, ignore_errors=True)
            meta = {"month": self.month, "started_at": time.time(), "runs": 0}
        meta["status"] = "running"
        meta["runs"] = int(meta.get("runs", 0)) + 1
        meta["resumed"] = resume
        self.staging.mkdir(parents=True, exist_ok=True)
        for tmp in self.staging.glob(".*"):
            tmp.unlink(missing_ok=True)  # half-written parts of a killed run
        self.meta = meta
        self._write_meta()
        log.info("crawl job %s for %s: %s (run %d)", self.path, self.month,
                 "resumed" if resume else "started", meta["runs"])

    def _write_meta(self) -> None:
        tmp = self.path / f".job-{uuid.uuid4().hex[:8]}.json"
        tmp.write_text(json.dumps(self.meta, indent=1))
        os.replace(tmp, self.path / "job.json")

    @property
    def started_at(self) -> float:
        return float(self.meta.get("started_at", 0.0))

    @property
    def resumed(self) -> bool:
        return bool(self.meta.get("resumed"))

    def finish(self) -> None:
        """Mark the job finished: the next crawl of this month starts over."""
        self.meta["status"] = "finished"
        self.meta["finished_at"] = time.time()
        self._write_meta()
        with self._lock:
            self._open.pop(self.path, None)

    # -- staging -----------------------------------------------------------------------
    def parts(self) -> list[Path]:
        return sorted(p for p in self.staging.glob("part-*.parquet"))

    def write_part(self, rows: list[dict[str, Any]], spider: str) -> Path | None:
        """Append one batch of staging rows as a new part file, atomically."""
        if not rows:
            return None
        table = pa.Table.from_pylist(rows, schema=STAGING_SCHEMA)
        self._seq += 1
        name = f"part-{spider}-{int(time.time() * 1000):013d}-{os.getpid()}-{self._seq:06d}"
        tmp = self.staging / f".{name}.tmp"
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        dest = self.staging / f"{name}.parquet"
        os.replace(tmp, dest)
        return dest

    def _scan(self, columns: list[str]) -> Iterator[pa.Table]:
        for p in self.parts():
            try:
                yield pq.read_table(p, columns=columns)
            except (OSError, pa.ArrowInvalid) as exc:  # pragma: no cover - damaged disk
                log.warning("skipping unreadable staging part %s: %s", p, exc)

    def done_pages(self) -> set[str]:
        """Request and canonical URLs of the pages completely stored (loaded once)."""
        if self._done is None:
            done: set[str] = set()
            for t in self._scan(["record", "request_url", "url"]):
                t = t.filter(pc.equal(t["record"], "page"))
                done.update(u for u in t["request_url"].to_pylist() if u)
                done.update(u for u in t["url"].to_pylist() if u)
            self._done = done
        return self._done

    def stored_keys(self) -> set[tuple[str, str, str]]:
        """(url, topic, customer_id) of the signals already stored (loaded once)."""
        if self._keys is None:
            keys: set[tuple[str, str, str]] = set()
            for t in self._scan(["record", "url", "topic", "customer_id"]):
                t = t.filter(pc.equal(t["record"], "signal"))
                for u, tp, c in zip(t["url"].to_pylist(), t["topic"].to_pylist(),
                                    t["customer_id"].to_pylist(), strict=True):
                    keys.add((u, tp, c or ""))
            self._keys = keys
        return self._keys

    # -- publishing --------------------------------------------------------------------
    def signals_table(self, batch_rows: int = 200_000) -> Iterator[pa.Table]:
        """The staged signals, de-duplicated on ``signal_id``, as tables of table columns."""
        seen: set[str] = set()
        for t in self._scan(["record", *TABLE_COLUMNS]):
            t = t.filter(pc.equal(t["record"], "signal")).drop(["record"])
            if t.num_rows == 0:
                continue
            ids = t["signal_id"].to_pylist()
            keep = []
            for i, sid in enumerate(ids):
                if sid not in seen:
                    seen.add(sid)
                    keep.append(i)
            if keep:
                yield t.take(pa.array(keep, pa.int64())).cast(table_schema())

    def publish(self, lake: Lake, observed_month: str | None = None) -> tuple[Path, int]:
        """Write ``signals/month=M`` from staging, atomically; return its path and row count."""
        month = observed_month or self.month
        parts = list(self.signals_table())
        table = (pa.concat_tables(parts) if parts else table_schema().empty_table())
        table = table.sort_by([("source", "ascending"), ("url", "ascending"),
                               ("topic", "ascending")])
        dest = lake.write(SIGNALS, table, month=month, row_group_size=100_000)
        log.info("published %d signals to %s", table.num_rows, dest)
        return dest, table.num_rows


def now_utc() -> dt.datetime:
    """The current UTC time, naive, at microsecond precision (the contract's timestamp)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


__all__ = ["EXTRA_COLUMNS", "JobDir", "STAGING_SCHEMA", "default_job_dir", "now_utc",
           "signal_id", "state_root"]
