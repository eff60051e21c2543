"""Entity resolution: domain first, then exact and fuzzy names; ambiguity is never guessed."""

from __future__ import annotations

import pytest

from crawlers.resolve import Company, CompanyIndex, core_name, domains_in, normalize


@pytest.fixture(scope="module")
def index() -> CompanyIndex:
    return CompanyIndex([
        Company("C1", "Falcon Property", "falconproperty.com", "Chicago", "US"),
        Company("C2", "The Falcon Property GmbH", "thefalconproperty.de", "München", "DE"),
        Company("C3", "Falcon Property S.A.", "falconproperty.es", "Bilbao", "ES"),
        Company("C4", "Wade Group", "wadegroup.co.uk", "Leeds", "GB"),
        Company("C5", "Wade Group", "wade-group.com", "Austin", "US"),
        Company("C6", "Müller Bäckerei GmbH", "mueller-baeckerei.de", "München", "DE"),
        Company("C7", "O'Brien & Sons Ltd", "obrienandsons.ie", "Cork", "IE"),
        Company("C8", "Horizon", "horizon-consulting.ie", "Galway", "IE"),
        Company("C9", "Keller and Sons S.p.A.", "keller-and-sons.it", "Milano", "IT"),
    ])


def test_normalisation() -> None:
    assert normalize("O'Brien & Sons Ltd.") == "o brien and sons ltd"
    assert core_name("Keller and Sons S.p.A.") == "keller and sons"
    assert core_name("Bluestone GmbH & Co. KG") == "bluestone"
    assert core_name("Müller Bäckerei GmbH") == "muller backerei"
    assert domains_in("Visit www.Example.co.uk or write to jo@shop.example.com.") == [
        "shop.example.com", "example.co.uk"]


def test_domain_mention_wins(index: CompanyIndex) -> None:
    r = index.resolve(["About Falcon Property"], "For more information visit falconproperty.es.")
    assert (r.status, r.customer_id, r.method) == ("resolved", "C3", "domain")
    assert r.confidence >= 0.95


def test_near_duplicate_names_resolve_to_the_exact_one(index: CompanyIndex) -> None:
    assert index.resolve(["The Falcon Property GmbH"]).customer_id == "C2"
    assert index.resolve(["Falcon Property S.A."]).customer_id == "C3"
    assert index.resolve(["Falcon Property"]).customer_id == "C1"
    r = index.resolve(["-- Mia, IT lead at Keller and Sons S.p.A."])
    assert (r.customer_id, r.method) == ("C9", "name")


def test_shared_names_stay_ambiguous(index: CompanyIndex) -> None:
    r = index.resolve(["Ops lead @ Wade Group. Runner."], "Wade Group is hiring!")
    assert r.status == "ambiguous" and r.customer_id is None
    assert set(r.candidates) == {"C4", "C5"}


def test_city_breaks_a_tie(index: CompanyIndex) -> None:
    r = index.resolve(["About Wade Group"], "Wade Group is headquartered in Leeds.")
    assert (r.status, r.customer_id, r.method) == ("resolved", "C4", "name+city")


def test_fuzzy_spelling(index: CompanyIndex) -> None:
    r = index.resolve(["Head of IT @ Mueller Baeckerei GmbH"])
    assert (r.status, r.customer_id) == ("resolved", "C6")
    assert r.method in ("fuzzy", "fuzzy+city", "name") and r.confidence < 0.95


def test_free_text_needs_a_proper_noun(index: CompanyIndex) -> None:
    """A one-word name that is also a common word is not matched in running text."""
    assert not index.resolve([], "We watched the sun rise over the horizon at the offsite.").resolved
    assert index.resolve([], "Lessons from the move at O'Brien & Sons Ltd last year.").customer_id == "C7"


def test_unknown_company_is_unresolved(index: CompanyIndex) -> None:
    r = index.resolve(["Greystone Logistics"], "Greystone Logistics opens a depot.")
    assert r.status == "unresolved" and r.customer_id is None


def test_saved_shared_pages_resolve(saved_index: CompanyIndex, manifest: dict) -> None:
    from scrapy.utils.test import get_crawler

    from crawlers.spiders.forum import ForumSpider
    from crawlers.spiders.press import PressSpider
    from crawlers.spiders.social import SocialSpider
    from tests.crawlers.conftest import saved

    checks = 0
    for name, cls, cb in (("press_release.html", PressSpider, "parse_release"),
                          ("forum_thread.html", ForumSpider, "parse_thread"),
                          ("social_posts.json", SocialSpider, "parse_api")):
        spider = cls.from_crawler(get_crawler(cls))
        truth = manifest[name].get("truth_by_url") or {manifest[name]["url"]:
                                                      manifest[name]["truth"]}
        for item in getattr(spider, cb)(saved(name, manifest)):
            if not hasattr(item, "subjects"):
                continue
            r = saved_index.resolve(item.subjects, item.mention_text, item.mention_domains)
            owners = {c for c, _ in truth.get(item.url, [])}
            if owners:
                checks += 1
                assert r.customer_id in owners or r.status == "ambiguous", (item.url, r)
    assert checks >= 5
