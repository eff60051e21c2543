"""One small seeded market with stand-in signals, features and labels, shared by the
evaluation tests and the notebooks (which run on a copy of it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from propensity.lake import Lake
from propensity.settings import SandboxSettings

#: 600 companies, 2025-10..2026-09: labels exist for cut-offs up to 2026-07.
SPEC = SandboxSettings(companies=600, months=12, seed=7, end_month="2026-09")
#: Cut-offs built: the models for M hold out B = M - 3 and learn from the cut-offs whose
#: label windows closed before B, i.e. up to M - 6 (2025-11..12 for 06, 2025-11..2026-01 for
#: 07), as ``propensity train --month M`` does; 03 and 04 are the held-out backtests.
FEATURE_MONTHS = ("2025-11", "2025-12", "2026-01", "2026-03", "2026-04", "2026-06", "2026-07")
REPLAY = ("2026-06", "2026-07")
PRODUCTS = ("m365", "surface")


@pytest.fixture(scope="session")
def eval_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The market with signals for every month and features/labels for FEATURE_MONTHS."""
    from features.build import build_features
    from propensity.months import month_range
    from sandbox.market import generate_market
    from sandbox.signals import write_signals

    lake = Lake(tmp_path_factory.mktemp("evaluation-lake"))
    generate_market(lake, SPEC)
    write_signals(lake, month_range(FEATURE_MONTHS[0], FEATURE_MONTHS[-1]))
    for m in FEATURE_MONTHS:
        build_features(lake, m)
    return lake


def copy_lake(lake: Lake, dest: Path) -> Lake:
    """A copy of the lake's inputs (no mlflow/ or evaluation/), for tests that write."""
    for sub in ("raw", "truth", "signals", "features", "labels", "sandbox"):
        if (lake.root / sub).exists():
            shutil.copytree(lake.root / sub, dest / sub)
    return Lake(dest)
