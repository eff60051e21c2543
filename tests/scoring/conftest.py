"""A small sandbox lake run through the monthly job once (market, stand-in history signals,
features, training, scoring, publishing), shared by the scoring tests."""

from __future__ import annotations

import pytest

from propensity.lake import Lake
from propensity.settings import SandboxSettings, Settings, load_settings
from sandbox.market import generate_market

SPEC = SandboxSettings(companies=900, months=12, seed=11, end_month="2026-10")
MONTH = "2026-11"
PREVIOUS = "2026-10"
PREVIOUS_PRODUCTS = ("azure", "m365", "surface", "renewal")


def small_settings(root) -> Settings:
    # small models: these tests check the pipeline's contracts, not model quality
    return load_settings(lake=root, training={"train_months": 4, "lgbm": {
        "n_estimators": 60, "learning_rate": 0.1}})


@pytest.fixture(scope="session")
def monthly_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Settings, dict]:
    """Published months 2026-10 (a few products) then 2026-11 (every product)."""
    from scoring.monthly import run_monthly

    root = tmp_path_factory.mktemp("monthly")
    lake = Lake(root)
    generate_market(lake, SPEC)
    settings = small_settings(root)
    # last month for a few products only (enough to see cells move), this month for all
    run_monthly(lake, settings, PREVIOUS, skip_crawl=True, backfill_sandbox_signals=True,
                products=PREVIOUS_PRODUCTS)
    manifest = run_monthly(lake, settings, MONTH, skip_crawl=True,
                           backfill_sandbox_signals=True)
    return lake, settings, manifest
