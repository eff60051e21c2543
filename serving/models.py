"""Typed request and response bodies of the service (the OpenAPI schemas)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from propensity import contracts as C


class ProductScore(BaseModel):
    """One product's scores for one customer (the SCORES contract, less month and id)."""

    model_config = ConfigDict(extra="allow")

    product: str
    eligible: bool
    fit_probability: float
    fit_score: int = Field(description="0-100")
    fit_class: str
    probability: float | None = None
    intent_score: int | None = Field(None, description="0-100; null when not eligible")
    intent_class: str | None = None
    cell: str | None = None
    cluster: str
    deal_size_usd: float
    expected_revenue_usd: float
    fit_reasons: list[str] = []
    intent_reasons: list[str] = []
    evidence_url: str | None = None
    evidence_date: dt.date | None = None
    previous_cell: str | None = None
    cell_change: str = ""
    cell_change_reason: str = ""
    fit_model_version: str = ""
    intent_model_version: str | None = None


class CustomerScores(BaseModel):
    customer_id: str
    account_name: str | None = None
    domain: str | None = None
    month: str
    scores: list[ProductScore]


class Lookup(BaseModel):
    """Scores of several customers; ids that are not the partner's are in ``not_found``."""

    month: str
    partner: str | None
    customers: list[CustomerScores]
    not_found: list[str]


class ReportInfo(BaseModel):
    id: str
    title: str
    products: list[str]
    columns: list[str]
    flag_columns: list[str]
    numeric_columns: list[str]
    cluster_columns: list[str]


class PartnerReports(BaseModel):
    partner: str
    months: dict[str, list[str]] = Field(description="published month -> reports present, "
                                         "newest month first")


class ReportsListing(BaseModel):
    latest: str | None
    partners: list[PartnerReports]
    reports: list[ReportInfo]


class MonthMeta(BaseModel):
    month: str
    published_at: str
    run_id: str
    reports: list[str]
    partners: int


class Metadata(BaseModel):
    service: str
    version: str
    latest: str | None
    scores_month: str | None = Field(description="the month single look-ups answer from now")
    months: list[MonthMeta]
    model_versions: dict[str, dict[str, str | None]] = Field(
        description="product -> {fit, intent} registry versions of the latest month")
    products: list[str] = list(C.PRODUCTS)
    clusters: list[str] = [*C.CLUSTERS, C.NOT_ELIGIBLE]
    subsegments: list[str] = list(C.SUBSEGMENTS)
    limits: dict[str, int]
    principal: dict[str, str | bool]


class ProductBrief(BaseModel):
    product: str
    fit_score: int
    intent_score: int | None
    cluster: str
    cell: str | None
    expected_revenue_usd: float


class CrmMatch(BaseModel):
    row: int = Field(description="1-based row of the upload (header excluded)")
    input_domain: str
    input_name: str
    input_id: str
    customer_id: str | None
    account_name: str | None
    domain: str | None
    method: str | None = Field(description="domain, name, name_fuzzy, id, or null (no match)")
    confidence: float = Field(description="0-1")
    candidates: int = Field(description="customers that tied for this match")
    scores: list[ProductBrief]


class CrmResult(BaseModel):
    month: str
    partner: str
    rows: int
    matched: int
    by_method: dict[str, int]
    columns_used: dict[str, str | None]
    matches: list[CrmMatch]


class NewCompany(BaseModel):
    """Firmographics of a company that is not in the monthly batch (a new CRM account)."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=4, max_length=253, description="primary web domain, e.g. "
                        "example.com; its crawled signals are looked up by it")
    account_name: str = Field(min_length=1, max_length=300)
    employees: int = Field(ge=1, le=10_000_000)
    country: str = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")
    industry: str = Field(min_length=1, max_length=200)
    vertical: str = Field("", max_length=200)
    city: str = Field("", max_length=200)
    state: str = Field("", max_length=200)
    postal_code: str = Field("", max_length=40)
    segment: str = Field("SMB", max_length=40)
    acr_monthly_usd: float = Field(0.0, ge=0, le=1e9)
    customer_id: str | None = Field(None, max_length=100, description="your id for it, echoed")


class OnDemandScores(BaseModel):
    month: str = Field(description="the published month whose champion models scored it")
    domain: str
    signals_found: int | None = Field(None, description="crawled signals found for the domain")
    scores: list[ProductScore]
