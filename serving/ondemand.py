"""On-demand scoring of a company outside the monthly batch, through the scoring stage.

Serving holds no feature or model code: :func:`scoring.score_new_company` builds the
company's features with the batch's feature builder (its crawled signals looked up by
domain) and applies the champion models, which are loaded once per published month with
the scoring stage's own loader. This module only guards the call: the domain must be a web
domain, and a domain that is already a scored customer is refused, so on-demand scoring
cannot be used to read another partner's customer.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from propensity.settings import Settings
from serving.catalog import Catalog
from serving.errors import ApiError, bad_request, forbidden
from serving.keys import Principal
from serving.matching import normalise_domain
from serving.models import NewCompany, OnDemandScores, ProductScore

log = logging.getLogger(__name__)
DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_lock = threading.Lock()
_champions: dict[tuple[str, str], Any] = {}


def _load_champions(catalog: Catalog, settings: Settings, month: str, run_id: str) -> Any:
    """The champions of a published month, loaded once (by the scoring stage's loader)."""
    key = (month, run_id)
    if key not in _champions:
        from scoring.batch import load_champions

        _champions.clear()  # one month's models at a time
        _champions[key] = load_champions(catalog.lake, settings, settings.products,
                                         strict=False)
    return _champions[key]


def score_company(catalog: Catalog, settings: Settings, p: Principal,
                  company: NewCompany) -> OnDemandScores:
    """Scores of ``company`` per product, from the latest published month's champions."""
    domain = normalise_domain(company.domain)
    if not DOMAIN.match(domain):
        raise bad_request(f"{company.domain!r} is not a web domain (e.g. example.com)")
    idx = catalog.index()
    if idx.latest is None:
        raise ApiError(404, "no month has been published yet: nothing to score against")
    snap = catalog.snapshot(None)
    cid = snap.customer_by_domain(domain)
    if cid is not None:
        if p.admin or p.partner in snap.owners.get(cid, ()):
            raise ApiError(409, f"{domain} is already scored in the monthly batch as customer "
                           f"{cid}: look it up with /customer", customer_id=cid)
        raise forbidden(f"{domain} is an existing customer outside your book; on-demand "
                        "scoring is for companies that are not in the monthly batch")
    from scoring import score_new_company
    from scoring.batch import scores_as_records

    record = company.model_dump(exclude={"customer_id"})
    record["domain"] = domain
    record["country"] = record["country"].upper()
    info = idx.months[snap.month]
    # the products the published month was scored for (a product without a fit champion
    # is not in the batch either)
    scored = tuple(p for p in settings.products if p in snap.model_versions)
    settings = settings.model_copy(update={"products": scored})
    with _lock:  # one at a time: it runs the feature builder and the models
        champions = _load_champions(catalog, settings, info.month, info.run_id)
        try:
            frame = score_new_company(catalog.lake, settings, record, month=snap.month,
                                      champions=champions)
        except ValueError as exc:  # the scorer refusing this company's values
            raise bad_request(f"cannot score this company: {exc}") from None
    rows = scores_as_records(frame)
    return OnDemandScores(
        month=snap.month, domain=domain,
        signals_found=None,
        scores=[ProductScore(**{k: v for k, v in r.items() if k not in ("month", "customer_id")})
                for r in rows])
