"""Features for companies outside the batch (a partner's new CRM account), same definitions.

:func:`features_for_companies` runs :func:`features.definitions.feature_table` (the batch's
own definitions, on DuckDB) over in-memory tables: the given companies, their crawled
signals, and empty subscription, agreement and opportunity tables (a company the vendor does
not know owns nothing and has no win/loss). There is no second copy of any feature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from features import definitions as D
from features.catalogue import features_contract
from propensity import contracts as C
from propensity.months import cutoff

BANDS = ("1-9", "10-24", "25-49", "50-99", "100-300", "301-999", "1000+")
BAND_EDGES = (9, 24, 49, 99, 300, 999)


def org_size_band(employees: int) -> str:
    """The employee band a company falls in (the companies table's ``org_size``)."""
    return BANDS[int(np.searchsorted(BAND_EDGES, employees, side="left"))]


def subsegment(employees: int, acr_monthly_usd: float = 0.0) -> str:
    """SMB subsegment: Upper medium (>300 employees or ACR >1,000 USD), Medium (25-300),
    Very small (1-24)."""
    if employees > 300 or acr_monthly_usd > 1000:
        return "Upper medium"
    return "Medium" if employees >= 25 else "Very small"


def on_demand_id(domain: str) -> str:
    """A stable customer id for a company scored on demand (never a batch id)."""
    return "OD-" + hashlib.blake2b(domain.encode(), digest_size=6).hexdigest()


def companies_table(companies: Sequence[dict[str, Any]], month: str) -> pa.Table:
    """The companies contract for firmographics posted by a user (missing fields derived;
    ``created_at`` defaults to the day before the cut-off: a new account)."""
    rows = []
    new_account = (cutoff(month) - dt.timedelta(days=1)).date()
    for c in companies:
        created = pd.Timestamp(c["created_at"]).date() if c.get("created_at") else new_account
        emp = int(c["employees"])
        if emp < 1:
            raise ValueError(f"employees must be at least 1, got {emp}")
        acr = float(c.get("acr_monthly_usd") or 0.0)
        domain = str(c["domain"]).strip().lower()
        rows.append({
            "customer_id": str(c.get("customer_id") or on_demand_id(domain)),
            "account_name": str(c["account_name"]), "domain": domain, "employees": emp,
            "org_size": org_size_band(emp), "city": str(c.get("city") or ""),
            "state": str(c.get("state") or ""), "postal_code": str(c.get("postal_code") or ""),
            "country": str(c["country"]), "industry": str(c["industry"]),
            "vertical": str(c.get("vertical") or ""), "segment": "SMB",
            "subsegment": subsegment(emp, acr), "acr_monthly_usd": acr,
            "duns_number": str(c.get("duns_number") or ""), "created_at": created,
        })
    return pa.Table.from_pylist(rows, schema=C.COMPANIES.schema())


def features_for_companies(companies: Sequence[dict[str, Any]], signals: pd.DataFrame,
                           month: str) -> pd.DataFrame:
    """One feature row per company for the cut-off of ``month`` (features contract columns).

    ``signals`` are crawl rows about these companies (any ``customer_id``; they are credited
    by domain) with a ``month`` column naming their crawl partition.
    """
    comp = companies_table(companies, month)
    ids = dict(zip(comp["domain"].to_pylist(), comp["customer_id"].to_pylist(), strict=True))
    sig_schema = C.SIGNALS.schema().append(pa.field("month", pa.string()))
    if signals is not None and len(signals):
        s = signals[signals["domain"].isin(ids)].copy()
        s["customer_id"] = s["domain"].map(ids)
        full = {name: s[name] if name in s.columns else None for name in sig_schema.names}
        s = pd.DataFrame(full)
        s["signal_id"] = s["signal_id"].fillna("") if "signal_id" in signals.columns else \
            [f"{u}|{t}" for u, t in zip(s["url"], s["topic"], strict=True)]
        s["product_areas"] = [list(C.TOPIC_BY_ID[t].product_areas) if t in C.TOPIC_BY_ID
                              else [] for t in s["topic"]]
        s["signal_type"] = [C.TOPIC_BY_ID[t].signal_type if t in C.TOPIC_BY_ID else "other"
                            for t in s["topic"]]
        s["published_at"] = pd.to_datetime(s["published_at"]).dt.date
        s["observed_at"] = pd.to_datetime(s["observed_at"])
        sig = pa.Table.from_pandas(s[sig_schema.names], schema=sig_schema, preserve_index=False)
    else:
        sig = sig_schema.empty_table()
    sub_schema = C.SUBSCRIPTIONS.schema().append(pa.field("month", pa.string()))
    inputs = D.Inputs(
        companies=ibis.memtable(comp),
        subscriptions=ibis.memtable(sub_schema.empty_table()),
        agreements=ibis.memtable(C.AGREEMENTS.schema().empty_table()),
        opportunities=ibis.memtable(C.OPPORTUNITIES.schema().empty_table()),
        signals=ibis.memtable(sig),
    )
    con = ibis.duckdb.connect()
    try:
        out = con.to_pyarrow(D.feature_table(inputs, month).table)
    finally:
        con.disconnect()
    contract = features_contract()
    out = out.select(contract.column_names).cast(contract.schema())
    return out.to_pandas()
