"""The real service on loopback: every endpoint of issue 7, and bad input answered with 4xx."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
import requests

from propensity import contracts as C
from tests.serving.conftest import Served

API = ("/reports", "/download", "/customer", "/customers", "/crm_match", "/score_company",
       "/metadata")


def test_health_readiness_docs_and_hub_are_public(served: Served) -> None:
    for path in ("/livez", "/readyz", "/healthz"):
        assert requests.get(served.url + path, timeout=10).status_code == 200
    doc = requests.get(served.url + "/docs.json", timeout=10)
    assert doc.status_code == 200
    spec = doc.json()
    assert spec["openapi"].startswith("3.")
    assert set(API) <= set(spec["paths"])
    assert "text/html" in requests.get(served.url + "/docs", timeout=10).headers["content-type"]
    hub = requests.get(served.url + "/", timeout=10)
    assert hub.status_code == 200 and "Propensity reports" in hub.text
    assert hub.headers["x-content-type-options"] == "nosniff"


def test_metadata(served: Served) -> None:
    r = served.post("/metadata", key=served.key_a)
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["latest"] == served.month and m["scores_month"] == served.month
    assert m["months"][0]["month"] == served.month and m["months"][0]["run_id"]
    assert set(m["model_versions"]) <= set(C.PRODUCTS) and m["model_versions"]
    assert m["principal"] == {"partner": served.a, "admin": False}


def test_my_reports(served: Served) -> None:
    r = served.post("/reports", key=served.key_a)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["partner"] for p in body["partners"]] == [served.a]
    assert set(body["partners"][0]["months"][served.month]) == set(C.REPORTS)
    info = {x["id"]: x for x in body["reports"]}
    assert info["azure"]["columns"] == C.report_columns("azure")
    everyone = served.post("/reports", key=served.key_admin).json()
    assert {served.a, served.b} <= {p["partner"] for p in everyone["partners"]}


def _published(served: Served, partner: str, report: str, fmt: str) -> bytes:
    return (served.lake / "reports" / f"partner={partner}" / f"month={served.month}"
            / f"{report}.{fmt}").read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_default_download_is_the_published_file(served: Served, fmt: str) -> None:
    r = served.post("/download", {"report": "azure", "format": fmt}, key=served.key_a)
    assert r.status_code == 200, r.text
    assert r.content == _published(served, served.a, "azure", fmt)
    assert f'filename="azure_{served.a}_{served.month}.{fmt}"' in r.headers["content-disposition"]


def test_filtered_download_matches_the_report(served: Served) -> None:
    report = "m365"
    cols = ["CustomerID", "AccountName", "Country", "SubSegment", "M365Fit", "M365Cluster",
            "CopilotCluster", "PotentialRevenue"]
    full = pq.read_table(served.lake / "reports" / f"partner={served.a}"
                         / f"month={served.month}" / f"{report}.parquet").to_pandas()
    keep = full["M365Cluster"].isin(["Act now", "Evaluate"]) | \
        full["CopilotCluster"].isin(["Act now", "Evaluate"])
    keep &= (full["M365Fit"].fillna(-1) >= 20) | (full["CopilotFit"].fillna(-1) >= 20)
    expected = full[keep].sort_values(["PotentialRevenue", "CustomerID"],
                                      ascending=[False, True])
    body = {"report": report, "columns": cols,
            "filters": {"clusters": ["act now", "Evaluate"], "min_fit": 20}}
    r = served.post("/download", body, key=served.key_a)
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"\xef\xbb\xbf")
    got = pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig", dtype={"CustomerID": str})
    assert list(got.columns) == cols
    assert got["CustomerID"].tolist() == expected["CustomerID"].tolist()
    assert int(r.headers["x-row-count"]) == len(expected)
    # cell for cell the published CSV's text (same number and date formats, same escaping)
    pub_path = (served.lake / "reports" / f"partner={served.a}" / f"month={served.month}"
                / f"{report}.csv")
    pub = pd.read_csv(pub_path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    text = pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)
    exp_text = pub.set_index("CustomerID").loc[text["CustomerID"]].reset_index()[cols]
    pd.testing.assert_frame_equal(text, exp_text)
    assert r.content.count(b"\r\n") == len(expected) + 1  # CRLF, as published
    # Parquet, ascending by AccountName, first 5 rows, one country
    country = full["Country"].mode()[0]
    body = {"report": report, "columns": ["CustomerID", "AccountName"], "sort": "AccountName",
            "descending": False, "limit": 5, "format": "parquet",
            "filters": {"countries": [country.lower()]}}
    r = served.post("/download", body, key=served.key_a)
    assert r.status_code == 200, r.text
    t = pq.read_table(io.BytesIO(r.content)).to_pandas()
    exp = full[full["Country"] == country].sort_values(["AccountName", "CustomerID"]).head(5)
    assert t["CustomerID"].tolist() == exp["CustomerID"].tolist()


def test_lookups(served: Served) -> None:
    mine = served.customers_of(served.a)
    r = served.post("/customer", {"customer_id": mine[0]}, key=served.key_a)
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["customer_id"] == mine[0] and c["month"] == served.month
    scores = pq.read_table(served.lake / "scores" / f"month={served.month}").to_pandas()
    exp = scores[scores.customer_id == mine[0]].set_index("product")
    assert {s["product"] for s in c["scores"]} == set(exp.index)
    for s in c["scores"]:
        assert s["fit_score"] == exp.loc[s["product"], "fit_score"]
        assert s["cluster"] == exp.loc[s["product"], "cluster"]
    r = served.post("/customers", {"customer_ids": [*mine[:3], "NOPE"], "products": ["azure"]},
                    key=served.key_a)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["customer_id"] for x in body["customers"]] == mine[:3]
    assert body["not_found"] == ["NOPE"]
    assert all([s["product"] for s in x["scores"]] == ["azure"] for x in body["customers"])


def test_crm_matching(served: Served) -> None:
    comp = pq.read_table(served.lake / "raw" / "companies").to_pandas().set_index("customer_id")
    mine = served.customers_of(served.a)
    theirs = served.customers_of(served.b)
    lines = ["Website,Company,CRM ID",
             f"https://www.{comp.loc[mine[0], 'domain']}/contact,,",
             f",\"{comp.loc[mine[1], 'account_name'].upper()}\",",
             f",,{mine[2]}",
             f"{comp.loc[theirs[0], 'domain']},\"{comp.loc[theirs[0], 'account_name']}\","
             f"{theirs[0]}",
             "unknown-company.example,Nobody Known Anywhere,X1"]
    r = served.post("/crm_match", {"csv": "\n".join(lines)}, key=served.key_a)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["rows"] == 5 and res["columns_used"] == {"domain": "Website", "name": "Company",
                                                        "id": "CRM ID"}
    m = res["matches"]
    assert (m[0]["customer_id"], m[0]["method"], m[0]["confidence"]) == (mine[0], "domain", 1.0)
    assert m[1]["method"] == "name" and m[1]["confidence"] > 0
    assert comp.loc[m[1]["customer_id"], "account_name"].upper() == \
        comp.loc[mine[1], "account_name"].upper()
    assert (m[2]["customer_id"], m[2]["method"]) == (mine[2], "id")
    assert m[0]["scores"] and {s["product"] for s in m[0]["scores"]} <= set(C.PRODUCTS)
    # another partner's customer is never matched, and the unknown row neither
    assert m[3]["customer_id"] in (None, *mine) and m[3]["customer_id"] != theirs[0]
    assert m[4]["customer_id"] is None and m[4]["confidence"] == 0


def test_on_demand_scoring_uses_the_scoring_stage(served: Served) -> None:
    from propensity.settings import load_settings
    from scoring import score_new_company

    company = {"domain": "brand-new-company.example.com", "account_name": "Brand New Co",
               "employees": 120, "country": "US", "industry": "Retail", "state": "TX"}
    r = served.post("/score_company", {"company": company}, key=served.key_a)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["month"] == served.month and body["domain"] == company["domain"]
    got = {s["product"]: s for s in body["scores"]}
    assert got and set(got) <= set(C.PRODUCTS)
    for s in got.values():
        assert 0 <= s["fit_score"] <= 100 and s["cluster"] in (*C.CLUSTERS, C.NOT_ELIGIBLE)
        assert s["fit_reasons"]
    # the same answer as the scoring stage's own function on the same lake
    settings = load_settings(lake=served.lake)
    settings = settings.model_copy(update={"products": tuple(sorted(got))})
    direct = score_new_company(served.lake, settings,
                               {**company, "vertical": "", "city": "", "postal_code": "",
                                "segment": "SMB", "acr_monthly_usd": 0.0}, month=served.month)
    for row in direct.to_dict("records"):
        assert got[row["product"]]["fit_score"] == row["fit_score"]
        assert got[row["product"]]["cluster"] == row["cluster"]


BAD = [
    ("/download", {"report": "azure", "columns": ["CustomerID", "NoSuchColumn"]}, 400,
     "unknown column"),
    ("/download", {"report": "azure", "filters": {"clusters": ["Hot"]}}, 400, "unknown cluster"),
    ("/download", {"report": "azure", "filters": {"min_fit": "high"}}, 400, "min_fit"),
    ("/download", {"report": "azure", "filters": {"min_fit": 101}}, 400, "min_fit"),
    ("/download", {"report": "azure", "filters": {"cohorts": ["Nope"]}}, 400, "unknown cohort"),
    ("/download", {"report": "azure", "filters": {"colour": ["red"]}}, 400, "colour"),
    ("/download", {"report": "azure", "filters": "cluster=Act now"}, 400, "filters"),
    ("/download", {"report": "azure", "sort": "Nope"}, 400, "cannot sort"),
    ("/download", {"report": "nope"}, 400, "report"),
    ("/download", {"report": "azure", "format": "xlsx"}, 400, "format"),
    ("/download", {"report": "azure", "month": "2019-01"}, 404, "not published"),
    ("/download", {"report": "azure", "month": "January"}, 400, "month"),
    ("/download", {}, 400, "report"),
    ("/customer", {"customer_id": ""}, 400, "customer_id"),
    ("/customers", {"customer_ids": []}, 400, "customer_ids"),
    ("/customers", {"customer_ids": ["x"] * 10_001}, 413, "at most"),
    ("/customers", {"customer_ids": ["x"], "products": ["teleport"]}, 400, "unknown product"),
    ("/crm_match", {"csv": "foo,bar\n1,2\n"}, 400, "no domain, name or id"),
    ("/crm_match", {"csv": "domain,name\n\"open,x\n"}, 400, "malformed CSV"),
    ("/crm_match", {"csv": "domain\n"}, 400, "no account rows"),
    ("/crm_match", {"csv": "\x00\x01binary"}, 400, "NUL"),
    ("/crm_match", {}, 400, "csv"),
    ("/score_company", {"company": {"domain": "x"}}, 400, "account_name"),
    ("/score_company", {"company": {"domain": "not a domain", "account_name": "A",
                                    "employees": 5, "country": "US", "industry": "Retail"}},
     400, "not a web domain"),
]


@pytest.mark.parametrize("path,body,status,message", BAD,
                         ids=[f"{p}-{i}" for i, (p, *_) in enumerate(BAD)])
def test_bad_input_is_4xx_with_a_message(served: Served, path: str, body: dict, status: int,
                                         message: str) -> None:
    r = served.post(path, body, key=served.key_a)
    assert r.status_code == status, r.text
    assert message in r.text


def test_malformed_and_oversized_bodies(served: Served) -> None:
    h = {"Authorization": f"Bearer {served.key_a}", "Content-Type": "application/json"}
    r = requests.post(served.url + "/customers", data=b'{"customer_ids": [', headers=h,
                      timeout=10)
    assert r.status_code == 400 and "Invalid JSON" in r.text
    r = requests.post(served.url + "/customers", data=b"\xff\xfe\x00", headers=h, timeout=10)
    assert r.status_code == 400
    big = json.dumps({"customer_ids": ["C" * 50] * 30_000}).encode()  # ~1.6 MB > 1 MB
    r = requests.post(served.url + "/customers", data=big, headers=h, timeout=10)
    assert r.status_code == 413 and "over the limit" in r.text
    r = requests.post(served.url + "/customers", data=iter([big]), headers=h, timeout=10)
    assert r.status_code == 413  # chunked, no Content-Length
    huge_csv = json.dumps({"csv": "domain\n" + "x.com\n" * 4_000_000}).encode()  # ~24 MB
    r = requests.post(served.url + "/crm_match", data=huge_csv, headers=h, timeout=30)
    assert r.status_code == 413
    r = requests.post(served.url + "/crm_match", files={"csv": ("a.csv", b"domain\nx.com\n")},
                      headers={"Authorization": h["Authorization"]}, timeout=10)
    assert r.status_code == 415 and "JSON" in r.text


def test_server_log_has_no_unhandled_error(served: Served) -> None:
    text = served.log.read_text(errors="replace")
    assert "Exception in ASGI application" not in text
    bad = [ln for ln in text.splitlines() if "status=500" in ln]
    assert not bad, bad[:3]
