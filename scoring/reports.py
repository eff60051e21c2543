"""The six partner reports of DOMAIN.md section 4, built from one month's scores.

Columns and their order come from :func:`propensity.contracts.report_columns`. Cohorts
(target scenarios) are Yes/No columns, defined here over the feature table and the scores:

- ``AzureNoConsumptionHasM365``: no Azure consumption, owns Microsoft 365.
- ``M365MigrateOnPremises``: no M365, on-premises Exchange seen (site markup or end-of-support
  talk). ``M365MigrateDark``: no M365 and no known mail and productivity suite ("dark").
  ``M365CrossSellSolution``: owns M365 and has a High fit for another solution it does not own
  (Copilot, E5, Business Central, Sales Pro, Power Apps). ``M365CrossSellSeats``: owns M365 and
  has assigned at least 90% of its seats or is over the limit. ``M365Copilot``: owns M365, not
  Copilot, with a Copilot trial or a High/Medium Copilot intent. ``HasCopilot``: owns Copilot.
- ``SurfaceAcquire1to49`` / ``SurfaceAcquire50Plus``: no Surface, owns M365, with 1-49 / 50+
  M365 seats. ``SurfaceUpsell1to24`` / ``SurfaceUpsell25Plus``: owns 1-24 / 25+ Surface devices.
- ``D365BCOnPremERP``: no Business Central, under 300 employees (Business Central's market),
  with an on-premises ERP seen or no known ERP. ``D365SalesProNoCRM``: no Sales Pro and no
  competitor CRM seen. ``PowerAppsCompetingPlatform``: no Power Apps, a competitor CRM or
  low-code platform seen.
- ``SecurityM365ToE5``: owns M365, not E5.
- ``RenewalAutoRenewing``: agreement ending within 90 days and a subscription renewing
  automatically in that window. ``RenewalAtRisk``: agreement ending within 90 days and a Low or
  Very low renewal intent.

Flags: ``HasEA`` / ``HasOpen`` (an Enterprise / Open licensing agreement in force),
``HasAWS`` (a competitor's cloud seen), ``HasGoogle`` (a competitor's suite seen).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from propensity import contracts as C
from propensity.months import cutoff

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _b(features: pd.DataFrame, col: str) -> pd.Series:
    if col not in features.columns:
        return pd.Series(False, index=features.index)
    return features[col].fillna(False).astype(bool)


def _n(features: pd.DataFrame, col: str) -> pd.Series:
    if col not in features.columns:
        return pd.Series(np.nan, index=features.index)
    return pd.to_numeric(features[col], errors="coerce")


def yes_no(mask: pd.Series | np.ndarray) -> np.ndarray:
    return np.where(np.asarray(mask, bool), "Yes", "No")


def wide_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per customer with each product's propensity block (``<Area><Suffix>``)."""
    out = None
    for product, g in scores.groupby("product", sort=False):
        a = C.AREAS[str(product)]
        block = pd.DataFrame({
            "customer_id": g["customer_id"].to_numpy(),
            f"{a}Fit": g["fit_score"].to_numpy(),
            f"{a}Intent": g["intent_score"].astype("Int64").to_numpy(),
            f"{a}FitClass": g["fit_class"].to_numpy(),
            f"{a}IntentClass": g["intent_class"].fillna("").to_numpy(),
            f"{a}Cell": g["cell"].fillna("").to_numpy(),
            f"{a}Cluster": g["cluster"].to_numpy(),
            f"{a}Probability": g["probability"].round(4).to_numpy(),
            f"{a}PotentialRevenue": g["expected_revenue_usd"].round(2).to_numpy(),
            f"{a}SignalExplanation": ["; ".join(r) for r in g["intent_reasons"]],
            f"{a}FitExplanation": ["; ".join(r) for r in g["fit_reasons"]],
            f"{a}EvidenceURL": g["evidence_url"].fillna("").to_numpy(),
            f"{a}CellChange": [f"{c}: {w}" for c, w in zip(g["cell_change"],
                                                          g["cell_change_reason"], strict=True)],
        })
        out = block if out is None else out.merge(block, on="customer_id", how="outer")
    return out if out is not None else pd.DataFrame(columns=["customer_id"])


def _renewal_columns(agreements: pd.DataFrame | None, month: str) -> pd.DataFrame:
    """The agreement in force that ends first after the cut-off, per customer."""
    cols = ["customer_id", *C.RENEWAL_COLUMNS, "_open"]
    if agreements is None or agreements.empty:
        return pd.DataFrame(columns=cols)
    cut = pd.Timestamp(cutoff(month))
    a = agreements.copy()
    a["start_date"], a["end_date"] = pd.to_datetime(a["start_date"]), pd.to_datetime(a["end_date"])
    a = a[(a["start_date"] < cut) & (a["end_date"] >= cut)]
    has_open = a[a["program"] == "Open"].groupby("customer_id").size().rename("_open")
    a = a.sort_values(["customer_id", "end_date"]).drop_duplicates("customer_id")
    out = pd.DataFrame({
        "customer_id": a["customer_id"].to_numpy(),
        "AgreementID": a["agreement_id"].to_numpy(),
        "AgreementEndDate": a["end_date"].dt.date.to_numpy(),
        "RevenueDivision": a["revenue_division"].to_numpy(),
        "ExpiringRevenue": a["due_revenue_usd"].round(2).to_numpy(),
    })
    return out.merge(has_open.reset_index(), on="customer_id", how="outer")


def customer_table(scores: pd.DataFrame, features: pd.DataFrame, companies: pd.DataFrame,
                   agreements: pd.DataFrame | None, month: str) -> pd.DataFrame:
    """Every report column except the partner's, one row per scored customer."""
    f = features.set_index("customer_id")
    wide = wide_scores(scores).set_index("customer_id")
    ids = wide.index
    f = f.reindex(ids)
    comp = companies.set_index("customer_id").reindex(ids)
    t = pd.DataFrame(index=ids)
    for col, src in (("CustomerID", None), ("AccountName", "account_name"), ("Domain", "domain"),
                     ("DUNSNumber", "duns_number"), ("OrgSize", "org_size"), ("City", "city"),
                     ("State", "state"), ("PostalCode", "postal_code"), ("Country", "country"),
                     ("Industry", "industry"), ("Vertical", "vertical"), ("Segment", "segment"),
                     ("SubSegment", "subsegment")):
        t[col] = ids if src is None else comp[src].to_numpy() if src in comp else ""
    t["SMCTypeSummary"] = t["SubSegment"]
    ren = _renewal_columns(agreements, month).set_index("customer_id").reindex(ids)
    t["HasEA"] = yes_no(_b(f, "agr_has_ea"))
    t["HasOpen"] = yes_no(ren["_open"].fillna(0).to_numpy() > 0)
    t["HasAWS"] = yes_no(_b(f, "sig_tech_competitor_cloud_seen")
                         | _b(f, "sig_competitor_cloud_churn_seen"))
    t["HasGoogle"] = yes_no(_b(f, "sig_tech_google_workspace_seen")
                            | _b(f, "sig_competitor_productivity_churn_seen"))
    for col, mask in cohorts(f, wide).items():
        t[col] = yes_no(mask)
    for p in C.PRODUCTS:
        if p == "renewal":
            continue
        a = C.AREAS[p]
        status = f.get(f"ib_{p}_status")
        t[f"{a}Status"] = status.fillna("none").to_numpy() if status is not None else "none"
        t[f"{a}Seats"] = _n(f, f"ib_{p}_seats").fillna(0).to_numpy()
        t[f"{a}DeploymentPct"] = (_n(f, f"adopt_{p}_deployment_pct") * 100).round(1).to_numpy()
        t[f"{a}UsagePct"] = (_n(f, f"adopt_{p}_usage_pct") * 100).round(1).to_numpy()
        for kind in ("Deployment", "Usage"):
            band = f.get(f"adopt_{p}_{kind.lower()}_band")
            t[f"{a}{kind}Band"] = band.fillna("").to_numpy() if band is not None else ""
    t = t.join(wide)
    for col in C.RENEWAL_COLUMNS:
        t[col] = ren[col].to_numpy()
    t["AgreementID"] = t["AgreementID"].fillna("")
    t["RevenueDivision"] = t["RevenueDivision"].fillna("")
    t["ReportMonth"] = month
    return t.reset_index(drop=True)


def cohorts(f: pd.DataFrame, wide: pd.DataFrame) -> dict[str, pd.Series]:
    """Every cohort column (see the module docstring), aligned on ``f``'s index."""
    own = {p: _b(f, f"ib_{p}_owned") for p in C.PRODUCTS if p != "renewal"}
    onprem = _b(f, "sig_tech_onprem_exchange_seen") | _b(f, "sig_exchange_end_of_support_seen")
    suite = onprem | _b(f, "sig_tech_google_workspace_seen") | \
        _b(f, "sig_competitor_productivity_churn_seen")
    crm = _b(f, "sig_tech_competitor_crm_seen") | _b(f, "sig_competitor_crm_churn_seen")

    def fit_high(p: str) -> pd.Series:
        col = f"{C.AREAS[p]}FitClass"
        return (wide[col] == "High") if col in wide else pd.Series(False, index=f.index)

    def intent_in(p: str, classes: tuple[str, ...]) -> pd.Series:
        col = f"{C.AREAS[p]}IntentClass"
        return wide[col].isin(classes) if col in wide else pd.Series(False, index=f.index)

    others = ("copilot", "security_e5", "d365_bc", "d365_sales_pro", "power_apps")
    cross = pd.Series(False, index=f.index)
    for p in others:
        cross |= ~own[p] & fit_high(p)
    m365_seats = _n(f, "ib_m365_seats").fillna(0)
    surface_seats = _n(f, "ib_surface_seats").fillna(0)
    deployed = (_n(f, "adopt_m365_deployment_pct") >= 0.9).fillna(False)
    employees = _n(f, "firm_employees").fillna(0)
    ending = _b(f, "agr_ending_90d")
    auto = pd.Series(False, index=f.index)
    for p in own:
        auto |= _b(f, f"adopt_{p}_auto_renewing_90d")
    return {
        "AzureNoConsumptionHasM365": ~own["azure"] & own["m365"],
        "M365MigrateOnPremises": ~own["m365"] & onprem,
        "M365MigrateDark": ~own["m365"] & ~suite,
        "M365CrossSellSolution": own["m365"] & cross,
        "M365CrossSellSeats": own["m365"] & (deployed | _b(f, "adopt_m365_overage")),
        "M365Copilot": own["m365"] & ~own["copilot"] & (
            _b(f, "ib_copilot_trial") | intent_in("copilot", ("High", "Medium"))),
        "HasCopilot": own["copilot"],
        "SurfaceAcquire1to49": ~own["surface"] & own["m365"] & (m365_seats >= 1)
        & (m365_seats <= 49),
        "SurfaceAcquire50Plus": ~own["surface"] & own["m365"] & (m365_seats >= 50),
        "SurfaceUpsell1to24": own["surface"] & (surface_seats <= 24),
        "SurfaceUpsell25Plus": own["surface"] & (surface_seats >= 25),
        "D365BCOnPremERP": ~own["d365_bc"] & (employees < 300),
        "D365SalesProNoCRM": ~own["d365_sales_pro"] & ~crm,
        "PowerAppsCompetingPlatform": ~own["power_apps"] & (
            crm | _b(f, "sig_lowcode_initiative_seen")),
        "SecurityM365ToE5": own["m365"] & ~own["security_e5"],
        "RenewalAutoRenewing": ending & auto,
        "RenewalAtRisk": ending & intent_in("renewal", ("Low", "Very low")),
    }


def partner_reports(customers: pd.DataFrame, partners: pd.DataFrame,
                    partner_customers: pd.DataFrame, reports: tuple[str, ...] = C.REPORTS
                    ) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """Yield ``(global_id, report, frame)`` for every partner and report.

    A partner's frame holds only the customers in its book, in the report's column order,
    sorted by potential revenue (highest first), then customer id.
    """
    names = dict(zip(partners["global_id"], partners["partner_name"], strict=True))
    book = partner_customers.merge(customers, left_on="customer_id", right_on="CustomerID",
                                   how="inner")
    for gid, rows in book.groupby("global_id", sort=True):
        rows = rows.assign(GlobalID=gid, PartnerName=names.get(gid, ""))
        for report in reports:
            spec = C.REPORT_SPECS[report]
            cols = C.report_columns(report)
            frame = rows.copy()
            pot = [f"{C.AREAS[p]}PotentialRevenue" for p in spec.products]
            frame["PotentialRevenue"] = frame[[c for c in pot if c in frame]].fillna(0).sum(
                axis=1).round(2)
            for c in cols:
                if c not in frame:
                    frame[c] = None
            frame = frame.sort_values(["PotentialRevenue", "CustomerID"],
                                      ascending=[False, True], kind="stable")
            yield str(gid), report, frame[cols].reset_index(drop=True)


def neutralise(value: object) -> object:
    """A text cell Excel would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def for_excel(frame: pd.DataFrame, report: str) -> pd.DataFrame:
    """The frame as written to CSV: text cells neutralised, numbers left as numbers."""
    numeric = set(C.report_numeric_columns(report))
    out = frame.copy()
    for c in out.columns:
        if c in numeric:
            continue
        col = out[c]
        out[c] = [neutralise(v.isoformat() if isinstance(v, dt.date) else v)
                  if v is not None and v == v else "" for v in col]
    return out


def write_csv(frame: pd.DataFrame, report: str, path: str) -> None:
    """UTF-8 with BOM, CRLF, ISO dates, formula-safe text, plain numbers: Excel opens it."""
    for_excel(frame, report).to_csv(path, index=False, encoding="utf-8-sig",
                                    lineterminator="\r\n", float_format="%.10g")


def report_schema(report: str) -> pa.Schema:
    """Arrow schema of a report's Parquet file."""
    numeric = set(C.report_numeric_columns(report))
    ints = {c for c in numeric if c.endswith(("Fit", "Intent"))}
    fields = []
    for c in C.report_columns(report):
        if c in ints:
            fields.append(pa.field(c, pa.int64()))
        elif c in numeric:
            fields.append(pa.field(c, pa.float64()))
        elif c == "AgreementEndDate":
            fields.append(pa.field(c, pa.date32()))
        else:
            fields.append(pa.field(c, pa.string()))
    return pa.schema(fields)


def to_arrow(frame: pd.DataFrame, report: str) -> pa.Table:
    schema = report_schema(report)
    df = frame.copy()
    for field in schema:
        if pa.types.is_string(field.type):
            df[field.name] = [None if v is None or (isinstance(v, float) and v != v) else str(v)
                              for v in df[field.name]]
        elif pa.types.is_integer(field.type):
            df[field.name] = pd.to_numeric(df[field.name], errors="coerce").astype("Int64")
        elif pa.types.is_floating(field.type):
            df[field.name] = pd.to_numeric(df[field.name], errors="coerce").astype(float)
        elif pa.types.is_date(field.type):
            df[field.name] = pd.to_datetime(df[field.name]).dt.date
    return pa.Table.from_pandas(df, schema=schema, preserve_index=False)
