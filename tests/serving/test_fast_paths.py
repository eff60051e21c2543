"""What keeps look-ups fast: BentoML's request timer cancelled when the request ends, the
score index out of the garbage collector's way, a bounded answer cache."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path

import pyarrow.parquet as pq

from serving import timeouts
from serving.catalog import Catalog


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
