"""Fixtures for the features stage: one small seeded market with crawls, built once per session."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from features.build import BuildReport, build_features
from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months
from propensity.settings import SandboxSettings
from sandbox.market import generate_market
from sandbox.signals import write_signals

SPEC = SandboxSettings(companies=1200, months=8, seed=11, end_month="2026-10")
#: The cut-off month the tests build: snapshot 2026-06 exists, labels need 07..09 (present).
MONTH = "2026-07"
#: Crawls written for the market (the crawl for M sees everything published before M).
CRAWLS = ("2026-05", "2026-06", "2026-07", "2026-08")


@dataclass
class Market:
    lake: Lake
    month: str

    def copy(self, dest: Path, with_outputs: bool = False) -> Lake:
        """A copy of the market's inputs (raw, truth, signals) to modify in a test."""
        for sub in ("raw", "truth", "signals", *(("features", "labels") if with_outputs else ())):
            src = self.lake.root / sub
            if src.exists():
                shutil.copytree(src, dest / sub)
        return Lake(dest)


@pytest.fixture(scope="session")
def market(tmp_path_factory: pytest.TempPathFactory) -> Market:
    """A 1,200-company, 8-month market (2026-03..2026-10) with four crawls of its web."""
    root = tmp_path_factory.mktemp("features-lake")
    lake = Lake(root)
    generate_market(lake, SPEC)
    write_signals(lake, CRAWLS)
    return Market(lake, MONTH)


@pytest.fixture(scope="session")
def built(market: Market, tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, BuildReport]:
    """Features and labels for MONTH on DuckDB, in a copy of the market."""
    lake = market.copy(tmp_path_factory.mktemp("built"))
    return lake, build_features(lake, MONTH, "duckdb")


@pytest.fixture(scope="session")
def features(built: tuple[Lake, BuildReport]) -> pa.Table:
    lake, _ = built
    return lake.read("features", month=MONTH).sort_by("customer_id")


@pytest.fixture(scope="session")
def spark_session():
    """One local SparkSession for the whole test session (small memory, two cores)."""
    from features.engines.spark import local_session

    session = local_session(memory="1g", cores=2, app="propensity-tests")
    yield session
    session.stop()


def assert_same_table(a: pa.Table, b: pa.Table, rtol: float = 1e-9) -> None:
    """Same schema and rows (sorted by customer_id): exact for ints/strings, close for floats."""
    a, b = a.sort_by("customer_id"), b.sort_by("customer_id")
    assert a.schema.equals(b.schema), (a.schema, b.schema)
    assert a.num_rows == b.num_rows
    diff = []
    for name in a.column_names:
        x, y = a[name], b[name]
        if pa.types.is_floating(x.type):
            xn = x.to_numpy(zero_copy_only=False)
            yn = y.to_numpy(zero_copy_only=False)
            if not np.allclose(xn, yn, rtol=rtol, atol=1e-12, equal_nan=True):
                diff.append(name)
        elif not x.equals(y):
            diff.append(name)
    assert not diff, f"columns differ: {diff[:20]}"


def signal_row(customer_id: str | None, topic: str, published: str | None, observed: str,
               confidence: float = 0.9, source: str = "press", url: str | None = None,
               signal_id: str | None = None) -> dict:
    """One signals row (contract columns) for planting in tests."""
    import datetime as dt

    from sandbox.signals import signal_id as make_id

    url = url or f"http://www.prwirehub.com/releases/test/{topic}-{customer_id}-{published}"
    return {
        "signal_id": signal_id or make_id(url, topic, customer_id),
        "domain": None,
        "customer_id": customer_id,
        "source": source,
        "url": url,
        "published_at": dt.date.fromisoformat(published) if published else None,
        "observed_at": dt.datetime.fromisoformat(observed),
        "topic": topic,
        "product_areas": list(C.TOPIC_BY_ID[topic].product_areas) if topic in C.TOPIC_BY_ID
        else ["azure"],
        "signal_type": C.TOPIC_BY_ID[topic].signal_type if topic in C.TOPIC_BY_ID else "x",
        "evidence": "planted by a test",
        "confidence": confidence,
    }


def append_signals(lake: Lake, month: str, rows: list[dict]) -> None:
    """Add rows to the crawl partition ``month`` (creating it if needed)."""
    extra = pa.Table.from_pylist(rows, schema=C.SIGNALS.schema())
    if lake.path(C.SIGNALS, month).exists():
        extra = pa.concat_tables([lake.read(C.SIGNALS, month=month).cast(C.SIGNALS.schema()),
                                  extra])
    lake.write(C.SIGNALS, extra, month=month, validate=False)


def before(month: str) -> str:
    """The month before ``month``."""
    return add_months(month, -1)
