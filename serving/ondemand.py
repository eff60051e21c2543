"""On-demand scoring of a company outside the monthly batch, through the scoring stage.

Serving holds no feature or model code: :func:`scoring.score_new_company` builds the
company's features with the batch's feature builder (its crawled signals looked up by
domain) and applies the champion models. This module only guards the call: a domain that
is already a scored customer is answered from the batch's look-ups instead, so on-demand
scoring cannot be used to read another partner's customer.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

from propensity.settings import Settings
from serving.catalog import Catalog
from serving.errors import ApiError, bad_request, forbidden
from serving.keys import Principal
from serving.matching import normalise_domain
from serving.models import NewCompany, OnDemandScores, ProductScore

log = logging.getLogger(__name__)
_lock = threading.Lock()


def _clean(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "tolist"):
        return v.tolist()
    if hasattr(v, "item"):
        return v.item()
    return v


def score_company(catalog: Catalog, settings: Settings, p: Principal,
                  company: NewCompany) -> OnDemandScores:
    """Scores of ``company`` per product, from the latest published month's champions."""
    domain = normalise_domain(company.domain)
    if "." not in domain or " " in domain:
        raise bad_request(f"{company.domain!r} is not a web domain (e.g. example.com)")
    idx = catalog.index()
    if idx.latest is None:
        raise ApiError(404, "no month has been published yet: nothing to score against")
    snap = catalog.snapshot(None)
    existing = [c for c, (_, d) in snap.companies.items() if d and normalise_domain(d) == domain]
    if existing:
        cid = existing[0]
        if p.admin or p.partner in snap.owners.get(cid, frozenset()):
            raise ApiError(409, f"{domain} is already scored in the monthly batch as customer "
                           f"{cid}: look it up with /customer", customer_id=cid)
        raise forbidden(f"{domain} is an existing customer outside your book; on-demand "
                        "scoring is for companies that are not in the monthly batch")
    try:
        import scoring
    except ImportError:  # pragma: no cover - the stage ships with the package
        raise ApiError(503, "on-demand scoring is not available (no scoring stage)") from None
    fn = getattr(scoring, "score_new_company", None)
    if fn is None:
        raise ApiError(503, "on-demand scoring is not available in this build")
    record = company.model_dump()
    record["domain"] = domain
    with _lock:  # one on-demand score at a time: it loads models and runs the feature builder
        try:
            frame = fn(catalog.lake, settings, record)
        except ValueError as exc:  # the scorer refusing this company's values
            raise bad_request(f"cannot score this company: {exc}") from None
    rows = [{k: _clean(v) for k, v in r.items()} for r in frame.to_dict("records")]
    month = str(rows[0].get("month")) if rows and rows[0].get("month") else idx.latest
    signals = rows[0].get("signals_found") if rows else None
    return OnDemandScores(month=month, domain=domain,
                          signals_found=int(signals) if signals is not None else None,
                          scores=[ProductScore(**{k: v for k, v in r.items()
                                                  if k not in ("month", "customer_id")})
                                  for r in rows])
