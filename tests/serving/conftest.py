"""A small published lake and a real ``bentoml serve`` on loopback, built once per session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import requests

from serving.keys import add_key, revoke
from serving.run import free_port, launch

COMPANIES = 400
MONTH = "2026-11"


def propensity_command() -> list[str]:
    exe = shutil.which("propensity", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "propensity.cli"]


def build_published_lake(root: Path) -> str:
    """A small market run through ``propensity monthly --skip-crawl`` (market, stand-in
    signals, features, training, scoring, publishing); returns the published month.

    Four training months (as the scoring tests use) keep the job short; the lake is
    otherwise what the monthly job makes for any partner.
    """
    cmd = propensity_command()
    env = {**os.environ, "PROPENSITY_TRAINING__TRAIN_MONTHS": "4"}
    subprocess.run([*cmd, "sandbox", "generate", "--companies", str(COMPANIES), "--months",
                    "12", "--seed", "11", "--end-month", "2026-10", "--lake", str(root)],
                   check=True, env=env, capture_output=True)
    res = subprocess.run([*cmd, "monthly", "--month", MONTH, "--skip-crawl",
                          "--backfill-sandbox-signals", "--lake", str(root)],
                         env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-4000:] + res.stdout[-2000:]
    return json.loads((root / "reports" / "_published.json").read_text())["latest"]


@dataclass
class Served:
    """A running server, its lake and the keys the tests use."""

    url: str
    lake: Path
    month: str
    a: str  # partner A (the largest book)
    b: str  # partner B
    key_a: str
    key_b: str
    key_admin: str
    key_revoked: str
    log: Path

    def post(self, path: str, body: dict | None = None, key: str | None = None,
             **kw: object) -> requests.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return requests.post(f"{self.url}{path}", json=body or {}, headers=headers,
                             timeout=60, **kw)  # type: ignore[arg-type]

    def customers_of(self, partner: str) -> list[str]:
        t = pq.read_table(self.lake / "raw" / "partner_customers").to_pandas()
        return sorted(t.loc[t.global_id == partner, "customer_id"])


@pytest.fixture(scope="session")
def published_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("serving-lake")
    month = build_published_lake(root)
    return root, month


def _partners_by_size(root: Path) -> list[str]:
    t = pq.read_table(root / "raw" / "partner_customers").to_pandas()
    only = t.groupby("customer_id")["global_id"].transform("size") == 1
    sizes = t[only].groupby("global_id").size().sort_values(ascending=False)
    published = {d.name.split("=", 1)[1] for d in (root / "reports").iterdir()
                 if d.name.startswith("partner=")}
    return [g for g in sizes.index if g in published]


@pytest.fixture(scope="session")
def served(published_lake: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Served]:
    root, month = published_lake
    a, b = _partners_by_size(root)[:2]
    revoked = add_key(root, a, label="to revoke")
    assert revoke(root, key_or_id=revoked) == 1
    keys = dict(key_a=add_key(root, a), key_b=add_key(root, b),
                key_admin=add_key(root, "", admin=True), key_revoked=revoked)
    log = tmp_path_factory.mktemp("serving-log") / "server.log"
    with launch(root, free_port(), log_file=log, timeout=180) as url:
        yield Served(url=url, lake=root, month=month, a=a, b=b, log=log, **keys)


@pytest.fixture()
def lake_copy(published_lake: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    """A private copy of the published lake (for tests that publish into it)."""
    root, month = published_lake
    dest = tmp_path / "lake"
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns("serving", "mlflow"))
    return dest, month
