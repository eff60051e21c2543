"""Signal extraction: the taxonomy file, topics from text, technologies from markup, dates.

Saved pages (``data/``) are real responses of the synthetic web; the other examples are
written here in real-world style and share no wording with the sandbox.
"""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
import yaml

from crawlers.extract import (
    EVIDENCE_MAX,
    Extractor,
    Taxonomy,
    TaxonomyError,
    load_taxonomy,
    page_assets,
    page_content,
    parse_date,
    sentences,
)
from crawlers.spiders.sites import url_kind
from propensity.contracts import TOPIC_BY_ID, TOPIC_IDS
from tests.crawlers.conftest import DATA


@pytest.fixture(scope="module")
def ex() -> Extractor:
    return Extractor(load_taxonomy())


def topics(ex: Extractor, title: str, text: str, kind: str = "blog") -> set[str]:
    return {h.topic for h in ex.topics(title, [text], kind)}


# ----------------------------------------------------------------------------- taxonomy


def test_taxonomy_covers_every_topic_with_the_contract_product_areas() -> None:
    tax = load_taxonomy()
    ids = {t.id for t in tax.topics} | {t.topic for t in tax.technologies}
    assert ids == set(TOPIC_IDS)
    for t in tax.topics:
        assert t.product_areas == TOPIC_BY_ID[t.id].product_areas, t.id
        assert t.rules, t.id


def test_taxonomy_errors_name_the_topic() -> None:
    with pytest.raises(TaxonomyError, match="unknown topic id"):
        Taxonomy.from_dict({"topics": {"not_a_topic": {"product_areas": ["azure"],
                                                       "rules": [{"all": ["x"]}]}}})
    with pytest.raises(TaxonomyError, match="product_areas"):
        Taxonomy.from_dict({"topics": {"ai_adoption": {"product_areas": ["windows"],
                                                       "rules": [{"all": ["x"]}]}}})
    with pytest.raises(TaxonomyError, match="bad pattern"):
        Taxonomy.from_dict({"topics": {"ai_adoption": {"product_areas": ["copilot"],
                                                       "rules": [{"all": ["(unclosed"]}]}}})
    with pytest.raises(TaxonomyError, match="unknown vocabulary"):
        Taxonomy.from_dict({"topics": {"ai_adoption": {"product_areas": ["copilot"],
                                                       "rules": [{"all": ["{nope}"]}]}}})


def test_a_data_scientist_edits_the_file_not_the_code(tmp_path) -> None:
    """A new phrase in the YAML is picked up without touching code."""
    data = yaml.safe_load((DATA.parent.parent.parent / "crawlers" / "taxonomy.yaml")
                          .read_text())
    text = "Our team is piloting a brand-new thinking machine for quotes."
    assert "ai_adoption" not in topics(Extractor(Taxonomy.from_dict(data)), "", text)
    data["topics"]["ai_adoption"]["rules"].append(
        {"name": "thinking machines", "all": [r"\bthinking machines?\b"], "weight": 1.0})
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(data))
    assert "ai_adoption" in topics(Extractor(Taxonomy.load(path)), "", text)


# ----------------------------------------------------------------------------- topics


@pytest.mark.parametrize("title,text,kind,expected", [
    ("Senior Azure Platform Engineer", "Join our small infrastructure team in Leeds.", "job",
     {"hiring_cloud_engineers"}),
    ("Warehouse Operatives (x12)", "Immediate starts for our new distribution centre.", "job",
     {"hiring_spree"}),
    ("", "We're hiring 25 engineers across Berlin and Lisbon this spring.", "social",
     {"hiring_spree"}),
    ("Goodbye Salesforce", "After six years we are migrating our pipeline off Salesforce "
     "to something our reps actually like.", "blog", {"competitor_crm_churn"}),
    ("", "Our AWS bill doubled again this quarter. Time to move somewhere cheaper.", "forum",
     {"competitor_cloud_churn"}),
    ("Planning our mail move", "Exchange 2016 goes out of extended support in October, so we "
     "are moving mailboxes to the cloud.", "blog", {"exchange_end_of_support"}),
    ("", "Still running SQL Server 2012 for the stock database - what are my options?",
     "forum", {"sql_server_end_of_support"}),
    ("Time to retire Sage 50", "Our accounts team has outgrown the desktop version.", "blog",
     {"legacy_erp_end_of_support"}),
    ("Acme Widgets Appoints Jane Roe as Chief Information Officer",
     "Jane joins from a national retailer.", "press", {"leadership_change"}),
    ("Acme Widgets Closes $12M Series A", "The round was led by North Fund.", "press",
     {"funding_round"}),
    ("We've moved!", "Our new head office in Bristol opens its doors on Monday.", "news",
     {"new_office"}),
    ("Service notice", "Last week we were hit by a ransomware attack; systems are restored.",
     "news", {"security_incident"}),
    ("", "Rolling out Copilot to the finance team next month. Excited!", "social",
     {"ai_adoption"}),
    ("", "We built a Power Apps form to replace our paper timesheets.", "blog",
     {"lowcode_initiative"}),
    ("New kit day", "Replacing every laptop in the office with lighter 2-in-1s.", "blog",
     {"device_refresh"}),
    ("Our summer party", "Thanks to everyone who came along - the weather held!", "blog",
     set()),
    ("5 tips for a tidy inbox", "Archive often and unsubscribe from newsletters.", "blog",
     set()),
])
def test_real_world_phrasing(ex: Extractor, title: str, text: str, kind: str,
                             expected: set[str]) -> None:
    assert topics(ex, title, text, kind) == expected


def test_company_names_are_masked(ex: Extractor) -> None:
    """A firm called "Azure Bay" is not a cloud job because of its name."""
    args = ("Service Engineer", ["We are hiring at Azure Bay Cloud Services Ltd, a service "
                                 "engineer for the boilers team."], "job")
    assert "hiring_cloud_engineers" in {h.topic for h in ex.topics(*args)}
    masked = ex.topics(*args, mask=["Azure Bay Cloud Services Ltd"])
    assert "hiring_cloud_engineers" not in {h.topic for h in masked}


def test_evidence_is_short_and_confidence_in_range(ex: Extractor) -> None:
    long = "We are migrating off Salesforce. " + "Lorem ipsum dolor sit amet. " * 40
    for h in ex.topics("Leaving Salesforce for good " * 10, [long], "blog"):
        assert 0 < len(h.evidence) <= EVIDENCE_MAX
        assert 0.0 < h.confidence < 1.0


def test_abbreviations_do_not_split_sentences() -> None:
    assert sentences(["I've joined Foo & Co. KG as CEO. Big day."]) == [
        "I've joined Foo & Co. KG as CEO.", "Big day."]


# ----------------------------------------------------------------------------- saved pages


SITE_PAGES = ["blog_windows_server.html", "job_cloud.html", "job_spree.html",
              "news_leadership.html", "mislabelled.html"]


@pytest.mark.parametrize("name", SITE_PAGES)
def test_saved_site_pages(ex: Extractor, manifest: dict, name: str) -> None:
    entry = manifest[name]
    raw = (DATA / name).read_bytes()
    try:
        html = raw.decode("utf-8")
    except UnicodeDecodeError:  # the mislabelled page: what EncodingFixMiddleware does
        html = raw.decode("cp1252")
    pc = page_content(html, entry["url"])
    kind = url_kind(entry["url"])
    got = {h.topic for h in ex.topics(pc.title, pc.blocks, kind, mask=[pc.site_name or ""])}
    assert got == {t for _, t in entry["truth"]}
    assert pc.published is not None and pc.published < dt.date(2026, 11, 1)


def test_boilerplate_is_not_content(manifest: dict) -> None:
    """Sidebar widgets ("recent posts") and navigation never reach the text."""
    html = (DATA / "blog_windows_server.html").read_text()
    pc = page_content(html, manifest["blog_windows_server.html"]["url"])
    text = pc.text.lower()
    for word in ("recent posts", "home | about", "contact"):
        assert word not in text


def test_oversized_page_with_a_cut_comment(ex: Extractor, manifest: dict) -> None:
    entry = manifest["oversized.html.gz"]
    html = gzip.decompress((DATA / "oversized.html.gz").read_bytes()).decode("utf-8", "replace")
    assert len(html) > 1_000_000
    pc = page_content(html, entry["url"])
    got = {h.topic for h in ex.topics(pc.title, pc.blocks, "job")}
    assert got == {t for _, t in entry["truth"]}


@pytest.mark.parametrize("name", ["home_crm.html", "home_workspace.html"])
def test_technologies_on_home_pages(ex: Extractor, manifest: dict, name: str) -> None:
    entry = manifest[name]
    html = (DATA / name).read_text()
    got = {h.topic for h in ex.technologies(page_assets(html, {"Server": "nginx"}))}
    assert got == {t for _, t in entry["truth"]}


def test_technology_fingerprints_are_markup_not_prose(ex: Extractor) -> None:
    prose = '<p>Read why we left <a href="/blog/x">Google Workspace and HubSpot</a>.</p>'
    assert ex.technologies(page_assets(prose)) == []
    tags = ('<script src="https://js.hs-scripts.com/123.js"></script>'
            '<img src="https://bucket.s3.amazonaws.com/logo.png">'
            '<a href="https://mail.example.com/owa/">Webmail</a>'
            '<link href="https://fonts.googleapis.com/css2?family=Inter" rel="stylesheet">')
    got = {h.topic for h in ex.technologies(page_assets(tags))}
    assert got == {"tech_competitor_crm", "tech_competitor_cloud", "tech_onprem_exchange"}
    headers = {"Server": "AmazonS3", "X-Amz-Cf-Id": "abc"}
    assert {h.topic for h in ex.technologies(page_assets("<p>hi</p>", headers))} == {
        "tech_competitor_cloud"}


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize("text,lang,expected", [
    ("2026-03-04", None, dt.date(2026, 3, 4)),
    ("2026-03-04T09:00:00Z", None, dt.date(2026, 3, 4)),
    ("Wed, 04 Mar 2026 09:00:00 +0000", None, dt.date(2026, 3, 4)),
    ("March 4, 2026", None, dt.date(2026, 3, 4)),
    ("Published: 4 Mar 2026 · 2 min read", None, dt.date(2026, 3, 4)),
    ("4th of March 2026", None, dt.date(2026, 3, 4)),
    ("04/03/2026", "en-GB", dt.date(2026, 3, 4)),
    ("03/04/2026", "en-US", dt.date(2026, 3, 4)),
    ("13/03/2026", "en-US", dt.date(2026, 3, 13)),
    ("04.03.2026", "de", dt.date(2026, 3, 4)),
    ("4 mars 2026", "fr", dt.date(2026, 3, 4)),
    ("no date here", None, None),
    ("31/02/2026", None, None),
])
def test_dates(text: str, lang: str | None, expected: dt.date | None) -> None:
    assert parse_date(text, lang) == expected


@pytest.mark.parametrize("markup,expected", [
    ('<meta property="article:published_time" content="2025-06-01T08:00:00Z"><p>x</p>',
     dt.date(2025, 6, 1)),
    ('<article><p>Posted <time datetime="2025-06-02">2 June</time></p></article>',
     dt.date(2025, 6, 2)),
    ('<script type="application/ld+json">{"datePublished": "2025-06-03"}</script>',
     dt.date(2025, 6, 3)),
    ('<article><p class="meta">Published: June 4, 2025</p><p>Body.</p></article>',
     dt.date(2025, 6, 4)),
])
def test_published_date_from_markup(markup: str, expected: dt.date) -> None:
    assert page_content(f"<html><head></head><body>{markup}</body></html>").published == expected
