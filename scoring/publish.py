"""Publish a month's partner reports: whole or not at all, with a ``latest`` pointer last.

Layout (DESIGN.md): ``reports/partner=G/month=M/<report>.{parquet,csv}``. A month spans
every partner's folder, so one rename cannot publish it; instead:

1. every file is written under ``reports/_staging/<run>/`` first (a killed run leaves only
   staging behind, which the next run deletes);
2. each staged file is moved into place with ``os.replace`` (atomic per file: a reader sees
   the old file or the new one, never a torn one); files of a previous publication of the
   same month that this run does not produce are removed;
3. the month's manifest is written to ``reports/_manifests/<M>.json``;
4. last, ``reports/_published.json`` (the index readers trust: which months are published,
   and ``latest``) is replaced atomically.

A month not listed in the index is not published, whatever files exist; readers (the
service) list and open months through the index only. Publishing month M never touches
another month's files, so a failed run leaves the last good reports as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from propensity.lake import Lake
from scoring.reports import to_arrow, write_csv

REPORTS_DIR = "reports"
INDEX = "_published.json"


def reports_root(lake: Lake) -> Path:
    return Path(lake.root) / REPORTS_DIR


def index_path(lake: Lake) -> Path:
    return reports_root(lake) / INDEX


def read_index(lake: Lake) -> dict[str, Any]:
    """The published index (``{"latest": M | None, "months": {M: {...}}}``)."""
    p = index_path(lake)
    if not p.exists():
        return {"latest": None, "months": {}}
    return json.loads(p.read_text())


def published_months(lake: Lake) -> list[str]:
    return sorted(read_index(lake)["months"])


def latest_month(lake: Lake) -> str | None:
    return read_index(lake).get("latest")


def report_path(lake: Lake, partner: str, month: str, report: str, fmt: str) -> Path:
    return reports_root(lake) / f"partner={partner}" / f"month={month}" / f"{report}.{fmt}"


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True, default=str))
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def publish(lake: Lake, month: str, frames: Iterable[tuple[str, str, pd.DataFrame]],
            manifest: dict[str, Any], progress: Any = None) -> dict[str, Any]:
    """Write every ``(partner, report, frame)`` of ``month`` and publish the month.

    Returns the index entry of the month (files, rows, partners).
    """
    root = reports_root(lake)
    staging_root = root / "_staging"
    if staging_root.exists():  # leftovers of a killed run: never read by anyone
        shutil.rmtree(staging_root, ignore_errors=True)
    run = f"{month}-{uuid.uuid4().hex[:8]}"
    staging = staging_root / run
    staged: list[tuple[Path, Path]] = []
    rows: dict[str, int] = {}
    partners: set[str] = set()
    for partner, report, frame in frames:
        d = staging / f"partner={partner}"
        d.mkdir(parents=True, exist_ok=True)
        pq.write_table(to_arrow(frame, report), d / f"{report}.parquet")
        write_csv(frame, report, str(d / f"{report}.csv"))
        for fmt in ("parquet", "csv"):
            staged.append((d / f"{report}.{fmt}", report_path(lake, partner, month, report, fmt)))
        rows[report] = rows.get(report, 0) + len(frame)
        partners.add(partner)
        if progress:
            progress(partner, report)
    targets = {dst for _, dst in staged}
    for src, dst in staged:
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
    # a re-publication drops files this run did not produce (e.g. a partner that left)
    for old in root.glob(f"partner=*/month={month}/*"):
        if old not in targets:
            old.unlink()
    shutil.rmtree(staging, ignore_errors=True)
    entry = {
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "run_id": run, "partners": len(partners), "rows": rows,
        "reports": sorted(rows), "manifest": f"_manifests/{month}.json",
    }
    _write_json_atomic(root / "_manifests" / f"{month}.json", {**manifest, "publication": entry})
    index = read_index(lake)
    index["months"][month] = entry
    index["latest"] = max(index["months"])
    _write_json_atomic(index_path(lake), index)
    return entry
