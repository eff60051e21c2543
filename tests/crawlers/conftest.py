"""Fixtures of the crawler tests: saved responses, a small served market, crawl runs.

The integration tests run real crawls (``python -m crawlers crawl`` in a subprocess, as the
CLI does) against the sandbox server on loopback, with politeness delays relaxed so the
suite stays fast; everything else about the crawl (robots.txt, retries, caching, resume,
pipelines) is as in production.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse, XmlResponse

from crawlers.resolve import Company, CompanyIndex
from propensity.lake import Lake
from propensity.months import add_months
from propensity.settings import SandboxSettings
from sandbox.market import generate_market
from sandbox.web import BackgroundServer, build_app

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
SMALL_WEB = SandboxSettings(companies=150, months=8, seed=11, end_month="2026-10")
MONTH = add_months(SMALL_WEB.end_month, 1)  # the web as of the month after the history
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "RETRY_BACKOFF_BASE=0.05",
        "-s", "LOG_LEVEL=INFO"]


# ----------------------------------------------------------------------------- saved pages


@pytest.fixture(scope="session")
def manifest() -> dict[str, dict]:
    return json.loads((DATA / "responses.json").read_text())


def saved(name: str, manifest: dict[str, dict], meta: dict | None = None) -> TextResponse:
    """A saved response as Scrapy would hand it to a callback."""
    entry = manifest[name]
    body = (DATA / name).read_bytes()
    if name.endswith(".gz"):
        body = gzip.decompress(body)
    headers = {"Content-Type": entry["content_type"]}
    url = entry["url"]
    req = Request(url, meta=meta or {})
    ctype = entry["content_type"] or ""
    cls = (HtmlResponse if "html" in ctype else XmlResponse if "xml" in ctype
           else TextResponse)
    return cls(url=url, body=body, headers=headers, request=req)


@pytest.fixture(scope="session")
def saved_index() -> CompanyIndex:
    rows = json.loads((DATA / "companies.json").read_text())
    return CompanyIndex(Company(r["customer_id"], r["account_name"], r["domain"], r["city"],
                                r["country"]) for r in rows)


# ----------------------------------------------------------------------------- served market


@dataclass
class SmallWeb:
    lake: Path
    proxy: str
    month: str
    settings: SandboxSettings


@pytest.fixture(scope="session")
def small_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallWeb]:
    """A 150-company, 8-month market, its web served as of the month after its history."""
    root = tmp_path_factory.mktemp("crawl_market")
    generate_market(Lake(root), SMALL_WEB)
    with BackgroundServer(build_app(root, MONTH, SMALL_WEB)) as srv:
        yield SmallWeb(root, srv.proxy, MONTH, SMALL_WEB)


def fresh_lake(web: SmallWeb, dest: Path) -> Path:
    """A new lake holding the market (raw tables, spec, truth) but no crawl state: an
    independent crawl. The crawler reads raw/companies only; truth is for evaluation."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in ("raw", "sandbox", "truth"):
        src = web.lake / part
        if src.exists():
            shutil.copytree(src, dest / part)
    return dest


def crawl_cmd(web: SmallWeb, lake: Path, month: str | None = None, *extra: str) -> list[str]:
    return [sys.executable, "-m", "crawlers", "crawl", "--month", month or web.month,
            "--lake", str(lake), "--proxy", web.proxy, *FAST, *extra]


def run_crawl_subprocess(web: SmallWeb, lake: Path, month: str | None = None, *extra: str,
                         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    p = subprocess.run(crawl_cmd(web, lake, month, *extra), cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-4000:]
    return p


@pytest.fixture(scope="session")
def first_crawl(small_web: SmallWeb, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted crawl of the small web: the reference every other test compares to."""
    lake = fresh_lake(small_web, tmp_path_factory.mktemp("crawl_ref"))
    run_crawl_subprocess(small_web, lake)
    return lake
