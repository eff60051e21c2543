"""Pure parts of the service: CRM parsing and matching, download filters and CSV output."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pytest

from propensity import contracts as C
from serving import downloads as D
from serving.errors import ApiError
from serving.matching import Account, Matcher, normalise_domain, normalise_name, parse_accounts


@pytest.mark.parametrize("raw,expected", [
    ("HTTPS://www.Example.com:443/about?x=1", "example.com"),
    ("example.com.", "example.com"),
    ("mail@Example.co.uk", "example.co.uk"),
    ("  shop.example.de/path ", "shop.example.de"),
])
def test_normalise_domain(raw: str, expected: str) -> None:
    assert normalise_domain(raw) == expected


def test_normalise_name() -> None:
    assert normalise_name("Müller & Söhne GmbH") == "muller sohne"
    assert normalise_name("The ACME Corp.") == "acme"
    assert normalise_name("Inc") == "inc"  # never empty


def test_matching_order_and_confidence() -> None:
    customers = [("C1", "Acme Widgets Ltd", "acme.com"), ("C2", "Borealis Data", "borealis.io"),
                 ("C3", "Twin Name", "twin-a.com"), ("C4", "Twin Name", "twin-b.com")]
    m = Matcher(customers, fuzzy_min_score=88)
    # domain beats a name that points elsewhere
    r = m.match(Account(1, "https://www.acme.com/", "Borealis Data", "C2"))
    assert (r.customer_id, r.method, r.confidence) == ("C1", "domain", 1.0)
    r = m.match(Account(2, "", "ACME WIDGETS LIMITED", ""))
    assert (r.customer_id, r.method, r.confidence) == ("C1", "name", 0.95)
    r = m.match(Account(3, "", "Borealis Dta", ""))
    assert r.customer_id == "C2" and r.method == "name_fuzzy" and 0.75 < r.confidence < 0.9
    r = m.match(Account(4, "", "Twin Name", ""))
    assert r.method == "name" and r.candidates == 2 and r.confidence == pytest.approx(0.475)
    r = m.match(Account(5, "", "", "C2"))
    assert (r.customer_id, r.method, r.confidence) == ("C2", "id", 0.8)
    r = m.match(Account(6, "other.org", "Nobody At All", "C9"))
    assert r.customer_id is None and r.confidence == 0.0


@pytest.mark.parametrize("text,message", [
    ("", "empty"),
    ("foo,bar\n1,2\n", "no domain, name or id column"),
    ("domain,name\n", "no account rows"),
    ('domain,name\n"unterminated,x\n', "malformed CSV"),
    ("domain\x00,name\nx,y\n", "NUL"),
])
def test_bad_uploads_are_400(text: str, message: str) -> None:
    with pytest.raises(ApiError) as e:
        parse_accounts(text, max_rows=10)
    assert e.value.status == 400 and message in e.value.message


def test_upload_headers_delimiters_and_row_limit() -> None:
    accounts, used = parse_accounts("\ufeffWebsite;Company Name;CRM ID\nacme.com;Acme;7\n", 10)
    assert used == {"domain": "Website", "name": "Company Name", "id": "CRM ID"}
    assert accounts == [Account(1, "acme.com", "Acme", "7")]
    with pytest.raises(ApiError, match="too many rows"):
        parse_accounts("id\n" + "\n".join(str(i) for i in range(11)), max_rows=10)


def _report_table(n: int = 50) -> pa.Table:
    cols = C.report_columns("azure")
    num = set(C.report_numeric_columns("azure"))
    data = {}
    for c in cols:
        if c in num:
            data[c] = pa.array([float(i) for i in range(n)]) if c != "AzureFit" else \
                pa.array(list(range(n)), pa.int64())
        else:
            data[c] = pa.array([f"{c}{i}" for i in range(n)])
    data["AzureCluster"] = pa.array([("Act now", "Evaluate", "Nurture", "Educate")[i % 4]
                                     for i in range(n)])
    data["HasAWS"] = pa.array(["Yes" if i % 2 else "No" for i in range(n)])
    data["AccountName"] = pa.array(["=cmd|' /C calc'!A0"] + [f"Acct {i}" for i in range(1, n)])
    return pa.table(data)


def test_filters_sort_and_columns(tmp_path: pytest.TempPathFactory) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "azure.parquet"  # type: ignore[operator]
    pq.write_table(_report_table(), path)
    f = D.Filters(clusters=["act now", "Evaluate"], min_fit=10, cohorts=["HasAWS"])
    t = D.query(path, "azure", ["CustomerID", "AzureFit"], f, "PotentialRevenue", True, 5)
    df = t.to_pandas()
    assert list(df.columns) == ["CustomerID", "AzureFit", D.ROW]
    assert df[D.ROW].tolist() == df["AzureFit"].tolist()  # positions in the published file
    # rows i with i%4 in (0,1), i>=10, i odd -> i%4 == 1; highest PotentialRevenue (= i) first
    assert df["AzureFit"].tolist() == [49, 45, 41, 37, 33]


@pytest.mark.parametrize("filters,message", [
    ({"clusters": ["Hot"]}, "unknown cluster"),
    ({"subsegments": ["Huge"]}, "unknown subsegment"),
    ({"cohorts": ["M365Copilot"]}, "unknown cohort"),
    ({"industries": []}, "empty list"),
    ({"countries": [" "]}, "non-empty"),
])
def test_malformed_filters_are_400(filters: dict, message: str, tmp_path: object) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "azure.parquet"  # type: ignore[operator]
    pq.write_table(_report_table(), path)
    with pytest.raises(ApiError) as e:
        D.query(path, "azure", ["CustomerID"], D.Filters(**filters), "PotentialRevenue", True,
                None)
    assert e.value.status == 400 and message in e.value.message


def test_unknown_columns_are_400() -> None:
    with pytest.raises(ApiError, match="unknown column"):
        D.check_columns("azure", ["CustomerID", "M365Fit"])
    assert D.check_columns("azure", None) == C.report_columns("azure")


def test_csv_has_bom_and_neutralised_formulas() -> None:
    t = _report_table(40000)
    data = b"".join(D.iter_csv(t.select(["CustomerID", "AccountName", "AzureFit"]),
                               batch_rows=7000))
    assert data.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert len(df) == 40000 and list(df.columns) == ["CustomerID", "AccountName", "AzureFit"]
    assert df["AccountName"][0] == "'=cmd|' /C calc'!A0"
    assert df["AzureFit"].dtype.kind == "i"
    assert data.count(b"\xef\xbb\xbf") == 1
