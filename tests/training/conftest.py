"""A small sandbox market with (perfect-crawler) signals, features and labels, built once."""

from __future__ import annotations

import pytest

from propensity.lake import Lake
from propensity.months import add_months, month_range
from propensity.settings import SandboxSettings
from sandbox.market import generate_market

SPEC = SandboxSettings(companies=1500, months=15, seed=5, end_month="2026-10")
FIRST_FEATURES = "2025-11"  # the second month of history: the snapshot before it exists
SCORING_MONTH = "2026-11"


@pytest.fixture(scope="session")
def featured_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    from features.build import build_features
    from sandbox.signals import write_signals

    lake = Lake(tmp_path_factory.mktemp("trainlake"))
    generate_market(lake, SPEC)
    months = month_range(FIRST_FEATURES, SCORING_MONTH)
    write_signals(lake, months)
    for m in months:
        build_features(lake, m)
    assert lake.months("labels")[-1] == add_months(SPEC.end_month, -2)
    return lake


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect scikit-learn's array-API input checks: LightGBM-backed estimators take NumPy
    and pandas input only, so those checks do not apply (sklearn would skip them anyway)."""
    keep = [i for i in items if "check_array_api_input" not in i.nodeid]
    dropped = [i for i in items if "check_array_api_input" in i.nodeid]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
