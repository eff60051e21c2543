"""Report files partners open in Excel: formula-safe text, plain numbers, BOM, ISO dates."""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd

from propensity import contracts as C
from scoring.reports import for_excel, neutralise, to_arrow, write_csv


def _frame(report: str) -> pd.DataFrame:
    row = {c: "x" for c in C.report_columns(report)}
    for c in C.report_numeric_columns(report):
        row[c] = -12 if c.endswith(("Fit", "Intent")) else -12.5
    row.update(AccountName="=HYPERLINK(\"http://evil\")", City="+1 city", State="-x",
               Industry="@SUM(A1)", Vertical="\tTabbed", PostalCode="\rCR", Domain="ok.com")
    if "AgreementEndDate" in row:
        row["AgreementEndDate"] = dt.date(2026, 12, 31)
    return pd.DataFrame([row])


def test_neutralise_only_touches_formula_starts():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("normal") == "normal"
    assert neutralise(-3.0) == -3.0


def test_csv_is_excel_safe(tmp_path):
    for report in C.REPORTS:
        path = tmp_path / f"{report}.csv"
        write_csv(_frame(report), report, str(path))
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        assert b"\r\n" in raw
        rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
        assert list(rows[0]) == C.report_columns(report)
        r = rows[0]
        for col in ("AccountName", "City", "State", "Industry", "Vertical", "PostalCode"):
            assert r[col].startswith("'"), (report, col, r[col])
        assert r["Domain"] == "ok.com"
        for col in C.report_numeric_columns(report):
            want = "-12" if col.endswith(("Fit", "Intent")) else "-12.5"
            assert r[col] == want, (report, col)  # numbers stay numbers, sign kept
        if report == "agreement_renewal":
            assert r["AgreementEndDate"] == "2026-12-31"


def test_parquet_types_follow_the_report_schema():
    t = to_arrow(_frame("azure"), "azure")
    assert t.schema.names == C.report_columns("azure")
    assert str(t.schema.field("AzureFit").type) == "int64"
    assert str(t.schema.field("AzurePotentialRevenue").type) == "double"
    assert for_excel(_frame("azure"), "azure")["AzurePotentialRevenue"].iloc[0] == -12.5
