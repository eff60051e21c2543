"""Shared fixtures: small, seeded sandbox markets built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from propensity.lake import Lake
from propensity.settings import SandboxSettings
from sandbox.market import MarketGenerator, MarketSummary, write_market_spec

SMALL = SandboxSettings(companies=1500, months=15, seed=3, end_month="2026-10")


@pytest.fixture(scope="session")
def small_market(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, MarketSummary, dict]:
    """A 1,500-company, 15-month market; also returns the hidden intent seen each month."""
    root = tmp_path_factory.mktemp("lake")
    hidden: dict[str, dict] = {}

    def observe(month: str, gen: MarketGenerator) -> None:
        hidden[month] = {"intent": gen.intent.copy(), "owns": gen.owns.copy()}

    gen = MarketGenerator(SMALL)
    summary = gen.run(Lake(root), observer=observe)
    write_market_spec(Lake(root), SMALL)
    return Lake(root), summary, hidden


@pytest.fixture(scope="session")
def small_lake(small_market: tuple[Lake, MarketSummary, dict]) -> Lake:
    return small_market[0]


def lake_files(root: Path) -> dict[str, bytes]:
    """Every Parquet file under ``root`` by relative path, with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}
