"""What keeps look-ups and downloads fast: BentoML's request timer cancelled, the score index
out of the garbage collector's way, a bounded answer cache, and published CSVs read into the
download cache when their month is published (once per file, re-read after a re-publish)."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serving import downloads as D
from serving import timeouts
from serving.catalog import Catalog
from tests.serving.test_hotswap import publish_month


# ------------------------------------------------------------------ request timer
def _run_through_timeout(timeout: float, app_delay: float) -> tuple[list[dict], int]:
    """One request through BentoML's TimeoutMiddleware (patched); returns the messages
    sent and the number of timers still armed in the loop once the request is over."""
    from bentoml._internal.server.http.traffic import TimeoutMiddleware

    assert timeouts.install()
    sent: list[dict] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        await asyncio.sleep(app_delay)
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    async def send(msg: dict) -> None:
        sent.append(msg)

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def main() -> int:
        mw = TimeoutMiddleware(app, timeout=timeout)
        await mw({"type": "http", "path": "/x", "method": "POST", "headers": []}, receive, send)
        await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        return sum(1 for h in loop._scheduled if not h.cancelled())  # type: ignore[attr-defined]

    armed = asyncio.run(main())
    return sent, armed


def test_request_timer_is_cancelled_when_the_request_ends() -> None:
    sent, armed = _run_through_timeout(timeout=300, app_delay=0)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200
    assert armed == 0  # BentoML's own middleware leaves a 300 s timer (and the request) here


def test_request_timeout_still_answers_504() -> None:
    sent, _ = _run_through_timeout(timeout=0.05, app_delay=1.0)
    assert sent and sent[0]["status"] == 504


# ------------------------------------------------------------------ score snapshot
def test_owner_index_is_invisible_to_the_garbage_collector(published_lake: tuple[Path, str]
                                                           ) -> None:
    root, month = published_lake
    snap = Catalog(root).snapshot(month)
    assert snap.owners and all(isinstance(v, tuple) for v in snap.owners.values())
    links = pq.read_table(root / "raw" / "partner_customers").to_pandas()
    some = links.customer_id.iloc[0]
    assert set(snap.owners[some]) == set(links.loc[links.customer_id == some, "global_id"])
    gc.collect()
    # untracked after one collection: a month of a million customers costs a full
    # collection nothing (frozensets stayed tracked, one object per customer)
    assert not gc.is_tracked(snap.owners)
    assert not gc.is_tracked(snap.rows) and not gc.is_tracked(snap.companies)


def test_answer_cache_is_bounded_in_bytes(published_lake: tuple[Path, str]) -> None:
    root, month = published_lake
    snap = Catalog(root).snapshot(month)
    ids = sorted(snap.rows)[:12]
    one = len(snap.customer_json(ids[0]) or b"")
    snap._json.clear()
    snap._json_bytes = 0
    snap.json_cache_bytes = int(one * 3.5)
    bodies = {c: snap.customer_json(c) for c in ids}
    assert 0 < snap.json_cached_bytes <= snap.json_cache_bytes
    assert 1 <= len(snap._json) < len(ids)
    assert sum(len(b) for b in snap._json.values()) == snap.json_cached_bytes
    assert list(snap._json) == [c for c in ids if c in snap._json]  # the newest stay
    for c in ids:  # evicted or not, the answer is the same
        assert snap.customer_json(c) == bodies[c]


def test_catalog_freezes_what_lives_once_scores_are_loaded(published_lake: tuple[Path, str]
                                                          ) -> None:
    root, _ = published_lake
    gc.unfreeze()
    try:
        cat = Catalog(root, freeze_gc=True)
        cat.index()
        assert cat.wait_ready(60)
        deadline = time.monotonic() + 10
        while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


# ------------------------------------------------------------------ download cache
def test_quoting_skips_clean_columns_and_quotes_the_rest() -> None:
    assert D._quote(pa.array(["a", "b", None])).to_pylist() == ["a", "b", ""]
    col = pa.array(["a", "b,c", 'd"e', "f\ng", "h\ri", None])
    assert D._quote(col).to_pylist() == ["a", '"b,c"', '"d""e"', '"f\ng"', '"h\ri"', ""]
    # a slice's buffer still holds its neighbours' characters: the answer is the slice's
    assert D._quote(pa.array(["x,y", "plain", "text"]).slice(1)).to_pylist() == [
        "plain", "text"]
    chunked = pa.chunked_array([["a"], ["b,c"]])
    assert D._quote(chunked).to_pylist() == ["a", '"b,c"']


def _month_csvs(root: Path, month: str) -> list[Path]:
    return sorted((root / "reports").glob(f"partner=*/month={month}/*.csv"))


def test_published_month_is_read_into_the_download_cache(
        lake_copy: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    root, month = lake_copy
    D._CELLS.clear()
    monkeypatch.setattr(D, "WARM_MIN_BYTES", 0)  # every report, however small
    csvs = _month_csvs(root, month)
    assert csvs and not any(D.is_cached(p) for p in csvs)
    cat = Catalog(root, warm_downloads=True)
    cat.index()
    assert cat.wait_downloads_warm(120)
    assert all(D.is_cached(p) for p in csvs)

    # a download now reads no CSV: it cuts cells from the cache
    def no_read(path: Path) -> pa.Table:
        raise AssertionError(f"read {path} again")

    monkeypatch.setattr(D, "_read_cells", no_read)
    path = csvs[0]
    pq_path = path.with_suffix(".parquet")
    n = pq.ParquetFile(pq_path).metadata.num_rows
    cols = pq.read_schema(pq_path).names[:3]
    stream = D.iter_published_csv(path, pa.array(range(n)), cols, n)
    assert stream is not None and b"".join(stream).startswith(D.BOM)
    monkeypatch.undo()

    # re-published: new files, read again when the index says so; the old cells dropped
    old_keys = {D._file_key(p) for p in csvs}
    monkeypatch.setattr(D, "WARM_MIN_BYTES", 0)
    publish_month(root, month, month)
    cat.index()
    assert cat.wait_downloads_warm(120)
    csvs = _month_csvs(root, month)
    assert all(D.is_cached(p) for p in csvs)
    assert not old_keys & set(D._CELLS.entries)
    D._CELLS.clear()


def test_a_month_published_without_traffic_is_warm_before_its_first_request(
        lake_copy: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from propensity.months import add_months

    root, month = lake_copy
    new = add_months(month, 1)
    D._CELLS.clear()
    monkeypatch.setattr(D, "WARM_MIN_BYTES", 0)
    cat = Catalog(root, warm_downloads=True)
    cat.watch(0.1)
    try:
        publish_month(root, month, new)
        csvs = _month_csvs(root, new)
        assert csvs
        deadline = time.monotonic() + 120
        while not all(D.is_cached(p) for p in csvs) and time.monotonic() < deadline:
            time.sleep(0.1)  # nothing here asks the catalog anything: its watcher does
        assert all(D.is_cached(p) for p in csvs)
        assert cat.ready and cat._index.latest == new
    finally:
        cat.close()
        D._CELLS.clear()


def test_warm_respects_size_threshold_and_budget(tmp_path: Path) -> None:
    D._CELLS.clear()
    paths = []
    for i, rows in enumerate((10, 200, 2000)):
        p = tmp_path / f"r{i}.csv"
        p.write_bytes(D.BOM + b"A,B\r\n" + b"".join(b"%d,x\r\n" % k for k in range(rows)))
        paths.append(p)
    sizes = [p.stat().st_size for p in paths]
    # the smallest is under the threshold; the largest does not fit the budget
    done = D.warm_published(paths, budget=sizes[1] + 10, min_bytes=sizes[0] + 1)
    assert done == [paths[1]]
    assert D.is_cached(paths[1]) and not D.is_cached(paths[0]) and not D.is_cached(paths[2])
    D._CELLS.clear()


def test_one_read_per_file_however_many_ask(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    D._CELLS.clear()
    p = tmp_path / "r.csv"
    p.write_bytes(D.BOM + b"A,B\r\n1,\"x,y\"\r\n2,z\r\n")
    reads = []
    real = D._read_cells

    def slow_read(path: Path) -> pa.Table:
        reads.append(path)
        time.sleep(0.3)
        return real(path)

    monkeypatch.setattr(D, "_read_cells", slow_read)
    out: list[pa.Table] = []
    threads = [threading.Thread(target=lambda: out.append(D.published_csv(p)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(reads) == 1 and len(out) == 4
    assert out[0]["B"].to_pylist() == ['"x,y"', "z"]
    D._CELLS.clear()


def test_cache_keeps_to_its_byte_budget(tmp_path: Path) -> None:
    cache = D._CellCache(budget=1000)
    t = pa.table({"a": pa.array(["x" * 300])})
    size = t.nbytes
    for i in range(6):
        cache._put((f"p{i}", 1, 1, 1), t)
    assert cache.nbytes <= 1000 and len(cache.entries) == 1000 // size
    assert list(cache.entries)[-1][0] == "p5"  # least recently used out first
    cache._put(("p5", 2, 2, 2), t)  # a new version of a file replaces the old one
    assert [k for k in cache.entries if k[0] == "p5"] == [("p5", 2, 2, 2)]
    big = pa.table({"a": pa.array(["x" * 5000])})
    cache._put(("huge", 1, 1, 1), big)  # larger than the budget: not kept
    assert ("huge", 1, 1, 1) not in cache and cache.nbytes <= 1000
