"""sandbox.signals: the perfect crawl of the market's web, and bulk signals for the benchmark."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from propensity import contracts as C
from propensity.months import cutoff
from sandbox.signals import bulk_signal_counts, bulk_signals, signal_id, signals_from_traces

from .conftest import CRAWLS, MONTH


def test_a_crawl_sees_what_was_published_before_its_cutoff(market):
    t = signals_from_traces(market.lake, MONTH)
    C.SIGNALS.validate(t)  # contract types, no nulls where not allowed, unique signal_id
    cut = cutoff(MONTH)
    assert pc.max(t["published_at"]).as_py() < cut.date()
    assert set(t["observed_at"].to_pylist()) == {cut - dt.timedelta(hours=1)}
    traces = market.lake.read(C.WEB_TRACES)
    before = pc.sum(pc.less(traces["published_at"], pa.scalar(cut.date()))).as_py()
    assert t.num_rows == before < traces.num_rows
    row = t.slice(0, 1).to_pylist()[0]
    assert row["signal_id"] == signal_id(row["url"], row["topic"], row["customer_id"])
    assert row["product_areas"] == list(C.TOPIC_BY_ID[row["topic"]].product_areas)
    assert 0.6 <= pc.min(t["confidence"]).as_py() and pc.max(t["confidence"]).as_py() <= 1.0
    assert pc.max(pc.utf8_length(t["evidence"])).as_py() <= 280


def test_later_crawls_repeat_earlier_signals_with_the_same_ids(market):
    early = market.lake.read(C.SIGNALS, month=CRAWLS[0])
    late = market.lake.read(C.SIGNALS, month=CRAWLS[-1])
    assert set(early["signal_id"].to_pylist()) < set(late["signal_id"].to_pylist())
    same = late.filter(pc.is_in(late["signal_id"], early["signal_id"])).sort_by("signal_id")
    assert same["confidence"].equals(early.sort_by("signal_id")["confidence"])


def test_bulk_signals_are_large_repeated_and_well_formed():
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    per, total = bulk_signal_counts(len(months), 10_000, repeats=1)
    cust = pa.array([f"C{i:08d}" for i in range(50)])
    dom = pa.array([f"d{i}.com" for i in range(50)])
    parts = dict(bulk_signals(cust, dom, months, 10_000, repeats=1, seed=3))
    assert list(parts) == months
    assert sum(t.num_rows for t in parts.values()) == total >= 10_000
    assert parts["2026-01"].num_rows == per and parts["2026-02"].num_rows == 2 * per
    for m, t in parts.items():
        C.SIGNALS.validate(t)
        assert set(t["observed_at"].to_pylist()) == {cutoff(m) - dt.timedelta(hours=1)}
        assert pc.max(t["published_at"]).as_py() < cutoff(m).date()
    assert 0 < parts["2026-03"]["customer_id"].null_count < parts["2026-03"].num_rows * 0.1
    again = dict(bulk_signals(cust, dom, months, 10_000, repeats=1, seed=3))
    assert all(again[m].equals(parts[m]) for m in months)
