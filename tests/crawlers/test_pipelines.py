"""Item pipelines and the job directory: resolve, validate, dedupe, store, publish, resume."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from crawlers.items import PageDoneItem, SignalItem
from crawlers.jobs import JobDir, signal_id
from crawlers.pipelines import DedupePipeline, ResolvePipeline, StorePipeline, ValidatePipeline
from crawlers.spiders.sites import SitesSpider
from propensity.contracts import COMPANIES, SIGNALS
from propensity.lake import Lake

MONTH = "2026-11"


@pytest.fixture()
def lake(tmp_path: Path) -> Path:
    rows = json.loads((Path(__file__).parent / "data" / "companies.json").read_text())
    cols = {c.name: [] for c in COMPANIES.columns}
    for r in rows:
        full = {**r, "employees": 10, "org_size": "10-24", "state": "", "postal_code": "",
                "industry": "Retail", "vertical": "Shops", "segment": "SMB",
                "subsegment": "Very small", "acr_monthly_usd": 0.0, "duns_number": "1",
                "created_at": dt.date(2020, 1, 1)}
        for k in cols:
            cols[k].append(full[k])
    Lake(tmp_path).write(COMPANIES, pa.Table.from_pydict(cols, schema=COMPANIES.schema()))
    return tmp_path


def crawler_for(lake: Path, **settings: object):
    crawler = get_crawler(SitesSpider, {"CRAWL_LAKE": str(lake), "CRAWL_MONTH": MONTH,
                                        "CRAWL_STORE_BATCH": 3, **settings})
    crawler.spider = SitesSpider.from_crawler(crawler)
    return crawler


def sig(url: str = "http://a.com/blog/1", topic: str = "ai_adoption", source: str = "site",
        domain: str | None = "abbottsystems.com", **kw: object) -> SignalItem:
    base = dict(signal_id=None, domain=domain, customer_id=None, source=source, url=url,
                published_at=dt.date(2026, 5, 1), observed_at=dt.datetime(2026, 11, 2),
                topic=topic, product_areas=["copilot", "azure"], signal_type="initiative",
                evidence="We are piloting generative AI.", confidence=0.7, page_kind="blog")
    base.update(kw)
    return SignalItem(**base)


def test_resolve_site_and_shared_items(lake: Path) -> None:
    companies = json.loads((Path(__file__).parent / "data" / "companies.json").read_text())
    c = companies[0]
    p = ResolvePipeline.from_crawler(crawler_for(lake))
    p.open_spider()
    item = p.process_item(sig(domain=c["domain"]))
    assert item.customer_id == c["customer_id"] and item.match_method == "site"
    shared = sig(source="press", domain=None, subjects=[f"About {c['account_name']}"],
                 mention_text=f"Contact us at {c['domain']}.")
    item = p.process_item(shared)
    assert item.customer_id == c["customer_id"] and item.resolution == "resolved"
    unknown = p.process_item(sig(source="social", url="http://x/p/2", domain=None,
                                 subjects=["Founder @ Nobody Knows Ltd"]))
    assert unknown.customer_id is None and unknown.resolution == "unresolved"


def test_validate_sets_id_and_drops_bad_items(lake: Path) -> None:
    p = ValidatePipeline.from_crawler(crawler_for(lake))
    item = p.process_item(sig(customer_id="C1"))
    assert item.signal_id == signal_id(item.url, item.topic, "C1")
    for bad in (sig(topic="made_up"), sig(evidence="x" * 281), sig(confidence=1.5),
                sig(source="blogosphere"), sig(product_areas=["windows"]),
                sig(url="ftp://a"), sig(observed_at=None)):
        with pytest.raises(DropItem):
            p.process_item(bad)
    done = PageDoneItem("http://a.com/blog/1", "site", "blog")
    assert p.process_item(done) is done


def test_dedupe_same_url_topic_customer(lake: Path) -> None:
    p = DedupePipeline.from_crawler(crawler_for(lake, CRAWL_JOB_DIR=str(lake / "job")))
    p.open_spider()
    p.process_item(sig(customer_id="C1"))
    with pytest.raises(DropItem):
        p.process_item(sig(customer_id="C1"))
    p.process_item(sig(customer_id="C2"))  # another customer: kept
    p.process_item(sig(customer_id="C1", topic="lowcode_initiative"))  # another topic: kept


def run_store(lake: Path, job_dir: Path, items: list) -> StorePipeline:
    crawler = crawler_for(lake, CRAWL_JOB_DIR=str(job_dir))
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    validate = ValidatePipeline.from_crawler(crawler)
    for it in items:
        store.process_item(validate.process_item(it) if isinstance(it, SignalItem) else it)
    return store


def test_store_batches_publish_and_resume(lake: Path, tmp_path: Path) -> None:
    job_dir = tmp_path / "job"
    items = []
    for i in range(5):
        url = f"http://a.com/blog/{i}"
        items += [sig(url=url, customer_id="C1"), sig(url=url, customer_id="C1",
                                                     topic="lowcode_initiative"),
                  PageDoneItem(url, "site", "blog", canonical=url, signals=2)]
    store = run_store(lake, job_dir, items)
    job = store.job
    assert job is not None and len(job.parts()) == 5  # batches of 3 records
    assert not list((job_dir / "staging").glob(".*"))  # no half-written file left
    # a second run of the same job (e.g. after kill -9) sees what is stored
    (job_dir / "staging" / ".part-sites-killed.tmp").write_bytes(b"half a parquet file")
    JobDir._open.clear()
    job2 = JobDir.open(job_dir, MONTH)
    assert job2.resumed and not list((job_dir / "staging").glob(".*"))
    assert {f"http://a.com/blog/{i}" for i in range(5)} <= job2.done_pages()
    assert ("http://a.com/blog/3", "ai_adoption", "C1") in job2.stored_keys()
    # the same signals again (a page re-fetched before its batch was stored) are deduped
    run_store(lake, job_dir, [sig(url="http://a.com/blog/0", customer_id="C1")]).flush()
    dest, n = job2.publish(Lake(lake))
    assert n == 10
    table = Lake(lake).read(SIGNALS, MONTH)
    SIGNALS.validate(table)
    assert table.num_rows == 10 and "match_method" in table.column_names
    assert dest == Lake(lake).path(SIGNALS, MONTH)
    job2.finish()
    JobDir._open.clear()
    job3 = JobDir.open(job_dir, MONTH)  # a finished job: the next crawl starts over
    assert not job3.resumed and job3.parts() == []


def test_store_needs_a_job(lake: Path) -> None:
    with pytest.raises(NotConfigured):
        StorePipeline.from_crawler(crawler_for(lake, CRAWL_JOB_DIR="none"))
