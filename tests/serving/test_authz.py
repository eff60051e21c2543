"""Authorization matrix: every endpoint by own key, another partner's key, no key, revoked key.

Each request below targets partner A's data. A's own key (and the admin key) read it; any
other caller gets 401 (no or revoked key) or 403/404 (another partner), and no byte of A's
data: none of A's customer ids, names or domains, and no score fields.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from tests.serving.conftest import Served

CALLERS = ("own", "other", "none", "revoked", "admin")


def _requests(s: Served) -> dict[str, tuple[str, dict, int]]:
    """name -> (path, body, status for the owner)."""
    comp = pq.read_table(s.lake / "raw" / "companies").to_pandas().set_index("customer_id")
    mine = s.customers_of(s.a)
    c0 = mine[0]
    csv = "domain,name,id\n" + "\n".join(
        f"{comp.loc[c, 'domain']},\"{comp.loc[c, 'account_name']}\",{c}" for c in mine[:5])
    return {
        "reports": ("/reports", {"partner": s.a}, 200),
        "download-csv": ("/download", {"report": "azure", "partner": s.a}, 200),
        "download-filtered": ("/download", {"report": "d365", "partner": s.a,
                                            "columns": ["CustomerID", "AccountName"],
                                            "filters": {"min_fit": 0}}, 200),
        "download-parquet": ("/download", {"report": "surface", "partner": s.a,
                                           "format": "parquet"}, 200),
        "customer": ("/customer", {"customer_id": c0}, 200),
        "customer-with-partner": ("/customer", {"customer_id": c0, "partner": s.a}, 200),
        "customers": ("/customers", {"customer_ids": mine[:4]}, 200),
        "crm_match": ("/crm_match", {"csv": csv, "partner": s.a}, 200),
        "score_company-existing": ("/score_company", {"company": {
            "domain": comp.loc[c0, "domain"], "account_name": comp.loc[c0, "account_name"],
            "employees": 20, "country": "US", "industry": "Retail"}}, 409),
        "metadata": ("/metadata", {}, 200),
    }


def _secrets_of_a(s: Served) -> list[str]:
    comp = pq.read_table(s.lake / "raw" / "companies").to_pandas().set_index("customer_id")
    theirs = set(s.customers_of(s.b))
    only_a = [c for c in s.customers_of(s.a) if c not in theirs]
    out = []
    for c in only_a[:25]:
        out += [c, comp.loc[c, "domain"]]
    return out


@pytest.mark.parametrize("caller", CALLERS)
def test_authorization_matrix(served: Served, caller: str) -> None:
    s = served
    key = {"own": s.key_a, "other": s.key_b, "none": None, "revoked": s.key_revoked,
           "admin": s.key_admin}[caller]
    secrets = _secrets_of_a(s)
    failures = []
    for name, (path, body, own_status) in _requests(s).items():
        if caller == "admin" and path in ("/customer", "/customers"):
            body = {**body, "partner": s.a}
        r = s.post(path, body, key=key)
        text = r.content.decode("utf-8", "replace")
        if caller in ("own", "admin"):
            ok = r.status_code == own_status
        elif caller in ("none", "revoked"):
            ok = r.status_code == 401 and "API key" in text
        elif name == "metadata":  # not partner data: B reads its own metadata
            ok = r.status_code == 200 and s.a not in text
        else:
            ok = r.status_code in (403, 404)
        if caller not in ("own", "admin"):
            body_text = text.replace(str(body.get("customer_id", "\0")), "")
            leaked = [x for x in secrets if x in body_text and x not in str(body)]
            score_fields = "fit_score" in text or "CustomerID" in text
            if leaked or score_fields:
                ok = False
        if not ok:
            failures.append(f"{caller} {name}: {r.status_code} {text[:200]}")
    assert not failures, "\n".join(failures)


def test_other_partner_cannot_reach_a_through_its_own_scope(served: Served) -> None:
    """B asking in its own name for A's customers finds nothing of A."""
    s = served
    mine = [c for c in s.customers_of(s.a) if c not in set(s.customers_of(s.b))][:5]
    r = s.post("/customers", {"customer_ids": mine}, key=s.key_b)
    assert r.status_code == 404 and "fit_score" not in r.text
    comp = pq.read_table(s.lake / "raw" / "companies").to_pandas().set_index("customer_id")
    csv = "domain,id\n" + "\n".join(f"{comp.loc[c, 'domain']},{c}" for c in mine)
    r = s.post("/crm_match", {"csv": csv}, key=s.key_b)
    assert r.status_code == 200
    assert r.json()["matched"] == 0 and all(m["customer_id"] is None
                                            for m in r.json()["matches"])
    r = s.post("/download", {"report": "azure"}, key=s.key_b)
    assert r.status_code == 200 and not any(c in r.text for c in mine)
