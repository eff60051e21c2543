"""Table contracts, product and report identifiers, and the intent-topic identifiers.

Every stage imports its schemas from here: a column is declared once (name, Arrow type,
meaning) and item fields, validation and documentation are derived from it. Stages may add
columns; they may not drop or retype the ones below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# --------------------------------------------------------------------------------------
# Products, reports, sources
# --------------------------------------------------------------------------------------

PRODUCTS: tuple[str, ...] = (
    "azure",
    "m365",
    "copilot",
    "d365_bc",
    "d365_sales_pro",
    "power_apps",
    "surface",
    "security_e5",
    "renewal",
)

REPORTS: tuple[str, ...] = ("agreement_renewal", "azure", "d365", "m365", "security", "surface")

SOURCES: tuple[str, ...] = ("site", "press", "forum", "social")

SUBSEGMENTS: tuple[str, ...] = ("Very small", "Medium", "Upper medium")

SUBSCRIPTION_STATUSES: tuple[str, ...] = ("trial", "active", "grace", "suspended", "expired")
#: States only a paid subscription passes through. A subscription seen in one of them in the
#: label window was bought; a trial shows ``trial`` and then ``expired`` (it is never paid), so
#: "not a trial in this snapshot" would count every trial that ended as a purchase.
PAID_STATUSES: tuple[str, ...] = ("active", "grace", "suspended")
#: Version of the label definition, stored in every ``labels/month=M`` file's schema metadata
#: under :data:`LABEL_DEFINITION_KEY`. 2: a paid subscription or a won opportunity (labels
#: without it were built by version 1, which counted expired trials as purchases). Readers
#: refuse other versions rather than mix definitions; the schema alone cannot tell them apart.
LABEL_DEFINITION = "2"
LABEL_DEFINITION_KEY = b"propensity.label_definition"


def parquet_schema(path: Path) -> pa.Schema | None:
    """Schema of a table folder's first Parquet file (or of one file), None when there is none;
    reads the footer only."""
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    return pq.read_schema(files[0]) if files and files[0].exists() else None


def label_definition(path: Path) -> str | None:
    """The label definition a ``labels/month=M`` folder (or file) was built with, or None."""
    schema = parquet_schema(path)
    v = (schema.metadata or {}).get(LABEL_DEFINITION_KEY) if schema is not None else None
    return v.decode() if v is not None else None

OPPORTUNITY_OUTCOMES: tuple[str, ...] = ("won", "lost", "open")


@dataclass(frozen=True)
class Topic:
    """An intent topic: what a page can say about a company, and the products it points to.

    ``id`` and ``product_areas`` are the contract shared by the sandbox (which writes pages
    about topics in its own words) and the crawlers (which extract topics with their own
    taxonomy of phrases). Nothing else is shared between the two.
    """

    id: str
    product_areas: tuple[str, ...]
    signal_type: str
    description: str


TOPICS: tuple[Topic, ...] = (
    Topic("funding_round", ("azure", "m365", "d365_sales_pro", "surface"), "company_event",
          "raised a funding round or was acquired with growth capital"),
    Topic("new_office", ("m365", "surface", "security_e5"), "company_event",
          "expansion: opening a new office, site or location"),
    Topic("hiring_spree", ("m365", "surface", "copilot"), "hiring",
          "hiring many people at once (headcount growth)"),
    Topic("hiring_cloud_engineers", ("azure",), "hiring",
          "hiring cloud, DevOps or Azure engineers"),
    Topic("exchange_end_of_support", ("m365", "security_e5"), "end_of_support",
          "runs Exchange Server on premises that is reaching end of support"),
    Topic("windows_server_end_of_support", ("azure",), "end_of_support",
          "runs Windows Server on premises that is reaching end of support"),
    Topic("sql_server_end_of_support", ("azure",), "end_of_support",
          "runs SQL Server on premises that is reaching end of support"),
    Topic("legacy_erp_end_of_support", ("d365_bc",), "end_of_support",
          "runs an on-premises or desktop ERP / accounting package near end of life"),
    Topic("competitor_crm_churn", ("d365_sales_pro", "power_apps"), "competitor",
          "unhappy with or leaving a competitor's CRM"),
    Topic("competitor_cloud_churn", ("azure",), "competitor",
          "unhappy with or leaving a competitor's public cloud"),
    Topic("competitor_productivity_churn", ("m365", "copilot"), "competitor",
          "unhappy with or leaving a competitor's e-mail and productivity suite"),
    Topic("leadership_change", ("azure", "security_e5", "copilot"), "company_event",
          "a new CEO, CIO, CTO or IT director"),
    Topic("security_incident", ("security_e5", "azure"), "company_event",
          "suffered a breach, ransomware or phishing incident"),
    Topic("ai_adoption", ("copilot", "azure"), "initiative",
          "exploring generative AI or assistants for staff"),
    Topic("lowcode_initiative", ("power_apps",), "initiative",
          "building internal apps or automating workflows with low-code tools"),
    Topic("device_refresh", ("surface",), "initiative",
          "replacing laptops, tablets or other staff devices"),
    Topic("tech_competitor_crm", ("d365_sales_pro", "power_apps"), "technology",
          "site embeds a competitor's CRM or marketing-automation tag"),
    Topic("tech_competitor_cloud", ("azure",), "technology",
          "site is hosted on or serves assets from a competitor's cloud"),
    Topic("tech_google_workspace", ("m365", "copilot"), "technology",
          "site links to or verifies a competitor's productivity suite"),
    Topic("tech_onprem_exchange", ("m365", "security_e5"), "technology",
          "site links to a self-hosted Outlook Web Access"),
)

TOPIC_BY_ID: dict[str, Topic] = {t.id: t for t in TOPICS}
TOPIC_IDS: tuple[str, ...] = tuple(t.id for t in TOPICS)
EVENT_TOPICS: tuple[str, ...] = tuple(t.id for t in TOPICS if t.signal_type != "technology")
TECH_TOPICS: tuple[str, ...] = tuple(t.id for t in TOPICS if t.signal_type == "technology")


# --------------------------------------------------------------------------------------
# Table contracts
# --------------------------------------------------------------------------------------


class ContractError(ValueError):
    """A table does not match its contract; the message names table, column and rows."""


@dataclass(frozen=True)
class Column:
    """One contract column: its name, Arrow type, whether nulls are allowed and its meaning."""

    name: str
    type: pa.DataType
    meaning: str
    nullable: bool = False


@dataclass(frozen=True)
class TableContract:
    """A table's minimum columns, its key and where it lives in the lake."""

    name: str
    path: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    monthly: bool = False
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def schema(self) -> pa.Schema:
        """The Arrow schema of the contract columns, in contract order."""
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    def validate(self, table: pa.Table, where: str = "", check_key: bool = True) -> None:
        """Raise :class:`ContractError` if a contract column is missing, mistyped or null.

        ``where`` (a file or partition) is added to the message so the user can find it.
        """
        loc = f"{self.name}{' (' + where + ')' if where else ''}"
        names = set(table.column_names)
        missing = [c.name for c in self.columns if c.name not in names]
        if missing:
            raise ContractError(f"table {loc}: missing column(s) {missing}")
        for col in self.columns:
            arr = table.column(col.name)
            if not _type_compatible(arr.type, col.type):
                raise ContractError(
                    f"table {loc}: column {col.name!r} has type {arr.type}, expected {col.type}"
                )
            if not col.nullable and arr.null_count:
                rows = [i for i, v in enumerate(arr.is_null().to_pylist()) if v][:5]
                raise ContractError(
                    f"table {loc}: column {col.name!r} has {arr.null_count} null value(s), "
                    f"e.g. at rows {rows}"
                )
        if self.key and check_key:
            import pyarrow.compute as pc

            keys = table.select(list(self.key))
            grouped = keys.group_by(list(self.key)).aggregate([([], "count_all")])
            dup = grouped.filter(pc.greater(grouped["count_all"], 1))
            if dup.num_rows:
                example = dup.slice(0, 3).drop(["count_all"]).to_pylist()
                raise ContractError(
                    f"table {loc}: {dup.num_rows} duplicate key(s) on {list(self.key)}, "
                    f"e.g. {example}"
                )


def _type_compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    if actual.equals(expected):
        return True
    if pa.types.is_dictionary(actual):
        return _type_compatible(actual.value_type, expected)
    if pa.types.is_string(expected):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual)
    if pa.types.is_integer(expected):
        return pa.types.is_integer(actual)
    if pa.types.is_floating(expected):
        return pa.types.is_floating(actual)
    if pa.types.is_timestamp(expected):
        return pa.types.is_timestamp(actual)
    if pa.types.is_list(expected):
        return (pa.types.is_list(actual) or pa.types.is_large_list(actual)) and _type_compatible(
            actual.value_type, expected.value_type
        )
    return False


S, INT, F, B, D = pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.date32()
TS = pa.timestamp("us")

COMPANIES = TableContract(
    "companies",
    "raw/companies",
    (
        Column("customer_id", S, "the vendor's stable customer identifier"),
        Column("account_name", S, "the account's name as the CRM holds it (not unique)"),
        Column("domain", S, "the company's primary web domain (unique)"),
        Column("employees", INT, "number of employees"),
        Column("org_size", S, "employee band, e.g. '10-24'"),
        Column("city", S, "city of the head office"),
        Column("state", S, "state, province or region of the head office"),
        Column("postal_code", S, "postal code of the head office"),
        Column("country", S, "ISO 3166-1 alpha-2 country code"),
        Column("industry", S, "industry"),
        Column("vertical", S, "vertical within the industry"),
        Column("segment", S, "sales segment (always SMB here)"),
        Column("subsegment", S, "Very small (1-24), Medium (25-300), Upper medium (>300 or ACR>1000)"),
        Column("acr_monthly_usd", F, "Azure consumption revenue per month at the last "
               "segmentation (start of history), USD; monthly ACR is in the subscriptions"),
        Column("duns_number", S, "a nine-digit business identifier"),
        Column("created_at", D, "the day the account was created in the CRM"),
    ),
    key=("customer_id",),
    description="Firmographics. Static facts, plus subsegment and ACR as of the last "
    "segmentation (the start of history), so nothing here reveals later purchases. "
    "Time-varying facts (install base, ACR by month) come from the subscription snapshots.",
)

PARTNERS = TableContract(
    "partners",
    "raw/partners",
    (
        Column("global_id", S, "the partner's global identifier"),
        Column("partner_name", S, "the partner's trading name"),
        Column("country", S, "the partner's home country (ISO alpha-2)"),
    ),
    key=("global_id",),
    description="Resellers.",
)

PARTNER_CUSTOMERS = TableContract(
    "partner_customers",
    "raw/partner_customers",
    (
        Column("global_id", S, "partner"),
        Column("customer_id", S, "customer in that partner's book"),
        Column("since", D, "the day the customer joined the partner's book"),
    ),
    key=("global_id", "customer_id"),
    description="Each partner's customer book; some customers are in two books.",
)

SUBSCRIPTIONS = TableContract(
    "subscriptions",
    "raw/subscriptions",
    (
        Column("subscription_id", S, "subscription identifier, stable over snapshots"),
        Column("customer_id", S, "customer"),
        Column("global_id", S, "partner of record"),
        Column("product", S, "product identifier (one of PRODUCTS, never 'renewal')"),
        Column("sku", S, "the SKU or device model"),
        Column("seats_sold", INT, "licences (or devices) bought"),
        Column("seats_assigned", INT, "licences assigned to users (may exceed seats_sold: overage)"),
        Column("active_users_28d", INT, "users active in the 28 days before the snapshot"),
        Column("start_date", D, "first day of the subscription"),
        Column("end_date", D, "end of the current term (moves forward on renewal)"),
        Column("auto_renew", B, "renews automatically at end_date"),
        Column("status", S, "trial, active, grace, suspended or expired"),
        Column("monthly_revenue_usd", F, "billed revenue per month, USD"),
    ),
    key=("subscription_id",),
    monthly=True,
    description="Monthly snapshots of the subscription book: partition month=M holds the "
    "state at the close of M (as observed on the first day of M+1), including what was "
    "bought during M. Features for cut-off M therefore read partition M-1.",
)

AGREEMENTS = TableContract(
    "agreements",
    "raw/agreements",
    (
        Column("agreement_id", S, "agreement identifier"),
        Column("customer_id", S, "customer"),
        Column("program", S, "licensing programme: EA, MCA, Open or CSP"),
        Column("start_date", D, "first day of the agreement"),
        Column("end_date", D, "last day of the agreement"),
        Column("revenue_division", S, "revenue division name"),
        Column("due_revenue_usd", F, "revenue due at renewal, USD"),
    ),
    key=("agreement_id",),
    description="Licensing agreements; a renewal is a new row starting where the old ends.",
)

OPPORTUNITIES = TableContract(
    "opportunities",
    "raw/opportunities",
    (
        Column("opportunity_id", S, "opportunity identifier"),
        Column("customer_id", S, "customer"),
        Column("global_id", S, "partner who worked it"),
        Column("product", S, "product identifier"),
        Column("created_at", D, "day the opportunity was opened"),
        Column("closed_at", D, "day it was closed; null while open", nullable=True),
        Column("outcome", S, "won, lost or open (as of export)"),
        Column("amount_usd", F, "deal amount, USD"),
    ),
    key=("opportunity_id",),
    description="Win/loss history as of export. For a past cut-off, an opportunity counts "
    "only if created before it, and its outcome only if closed before it.",
)

SIGNALS = TableContract(
    "signals",
    "signals",
    (
        Column("signal_id", S, "stable hash of (url, topic, customer_id)"),
        Column("domain", S, "domain of the company the signal is about", nullable=True),
        Column("customer_id", S, "resolved customer; null when unresolved", nullable=True),
        Column("source", S, "site, press, forum or social"),
        Column("url", S, "page the signal was read from"),
        Column("published_at", D, "publication date shown on the page", nullable=True),
        Column("observed_at", TS, "when the crawler fetched the page"),
        Column("topic", S, "topic identifier (TOPIC_IDS)"),
        Column("product_areas", pa.list_(pa.string()), "products the topic points to"),
        Column("signal_type", S, "kind of topic (hiring, end_of_support, technology, ...)"),
        Column("evidence", S, "the sentence that carries the signal (<= 280 characters)"),
        Column("confidence", F, "extraction confidence in [0, 1]"),
    ),
    key=("signal_id",),
    monthly=True,
    description="Buying-intent signals read off the web by the crawlers.",
)

PURCHASE_PROBABILITY = TableContract(
    "purchase_probability",
    "truth/purchase_probability",
    (
        Column("customer_id", S, "customer"),
        Column("product", S, "product"),
        Column("probability", F, "true probability of buying during the month"),
        Column("eligible", B, "whether the customer could buy the product that month"),
        Column("propensity", F, "the probability it would have if it could buy (ignores "
               "eligibility): the oracle uses it for the later months of a label window"),
    ),
    key=("customer_id", "product"),
    monthly=True,
    description="Sandbox only: the oracle. Read by evaluation and tests, never by models.",
)

WEB_TRACES = TableContract(
    "web_traces",
    "truth/web_traces",
    (
        Column("customer_id", S, "company the mention is about"),
        Column("topic", S, "topic the page mentions"),
        Column("url", S, "page that carries the mention"),
        Column("published_at", D, "date the page shows"),
        Column("is_noise", B, "True when the mention is not driven by the company's intent"),
        Column("source", S, "site, press, forum or social"),
        Column("kind", S, "event (driven by intent), noise, or technology (site markup)"),
        Column("page_kind", S, "home, blog, news, job, press, forum or social"),
        Column("variant", INT, "which wording the sandbox renders (opaque)"),
    ),
    key=("customer_id", "topic", "url"),
    description="Sandbox only: every topic mention the synthetic web carries.",
)

RAW_TABLES: tuple[TableContract, ...] = (
    COMPANIES,
    PARTNERS,
    PARTNER_CUSTOMERS,
    SUBSCRIPTIONS,
    AGREEMENTS,
    OPPORTUNITIES,
)
TRUTH_TABLES: tuple[TableContract, ...] = (PURCHASE_PROBABILITY, WEB_TRACES)
CONTRACTS: dict[str, TableContract] = {
    t.name: t for t in (*RAW_TABLES, SIGNALS, *TRUTH_TABLES)
}


def check_product(product: str) -> str:
    """Return ``product`` if it is a known product identifier, else raise naming it."""
    if product not in PRODUCTS:
        raise ValueError(f"unknown product {product!r}; known: {', '.join(PRODUCTS)}")
    return product


def parse_products(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Parse ``a,b`` (or a list) into validated product ids; ``None`` means all products."""
    if value is None:
        return PRODUCTS
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(check_product(p.strip()) for p in items if p.strip())


# --------------------------------------------------------------------------------------
# Scores and reports (scoring's output, serving's input)
# --------------------------------------------------------------------------------------

#: Solution-area label of each product, as partners' spreadsheets name the columns
#: (``<Area>Fit``, ``<Area>Intent``, ``<Area>Cluster``...).
AREAS: dict[str, str] = {
    "azure": "Azure",
    "m365": "M365",
    "copilot": "Copilot",
    "d365_bc": "D365BC",
    "d365_sales_pro": "D365SP",
    "power_apps": "PowerApps",
    "surface": "Surface",
    "security_e5": "Security",
    "renewal": "Renewal",
}

CLASSES: tuple[str, ...] = ("High", "Medium", "Low", "Very low")
CLUSTERS: tuple[str, ...] = ("Act now", "Evaluate", "Nurture", "Educate")
#: The cluster of a customer that cannot buy the product this month (it owns it, or, for
#: renewal, has no agreement ending within 90 days). Such rows keep their fit score.
NOT_ELIGIBLE = "Not eligible"

SCORES = TableContract(
    "scores",
    "scores",
    (
        Column("month", S, "the scoring month (YYYY-MM); features use what was known before "
               "its first day"),
        Column("customer_id", S, "customer"),
        Column("product", S, "product identifier"),
        Column("eligible", B, "whether the customer can buy the product this month"),
        Column("fit_probability", F, "lookalike probability of being among the product's "
               "best customers"),
        Column("fit_score", INT, "0-100: percentile of fit_probability among every customer "
               "scored this month"),
        Column("fit_class", S, "High (75-100), Medium (55-74), Low (30-54), Very low (0-29)"),
        Column("probability", F, "calibrated probability of buying in the next 3 months; null "
               "when not eligible", nullable=True),
        Column("intent_score", INT, "0-100: percentile of probability among the eligible "
               "customers scored this month; null when not eligible", nullable=True),
        Column("intent_class", S, "class of intent_score; null when not eligible",
               nullable=True),
        Column("cell", S, "intent letter (A High .. D Very low) + fit digit (1 High .. 4 Very "
               "low); null when not eligible", nullable=True),
        Column("cluster", S, "Act now, Evaluate, Nurture, Educate (by intent letter, "
               "configurable), or 'Not eligible'"),
        Column("deal_size_usd", F, "expected deal size for this product and subsegment, USD"),
        Column("expected_revenue_usd", F, "probability x deal_size_usd (0 when not eligible)"),
        Column("fit_reasons", pa.list_(pa.string()), "three plain-word reasons for the fit "
               "score, strongest first"),
        Column("intent_reasons", pa.list_(pa.string()), "three plain-word reasons for the "
               "intent score, strongest first; an intent reason names its evidence"),
        Column("evidence_url", S, "source URL of the strongest signal behind the intent",
               nullable=True),
        Column("evidence_date", D, "published date of that signal", nullable=True),
        Column("previous_cell", S, "the cell last month; null when not scored then",
               nullable=True),
        Column("cell_change", S, "new, up, down, same, or left/entered eligibility"),
        Column("cell_change_reason", S, "why the cell moved, in plain words"),
        Column("fit_model_version", S, "registry version of the fit model"),
        Column("intent_model_version", S, "registry version of the intent model",
               nullable=True),
    ),
    key=("customer_id", "product"),
    monthly=True,
    description="One row per customer and product for a scoring month: scores, classes, "
    "matrix cell, cluster, revenue and reasons.",
)


@dataclass(frozen=True)
class ReportSpec:
    """One downloadable report: the products whose propensity it shows and its cohorts."""

    id: str
    title: str
    products: tuple[str, ...]
    cohorts: tuple[str, ...]
    adoption: tuple[str, ...] = ()


PARTNER_COLUMNS: tuple[str, ...] = ("GlobalID", "PartnerName")
FIRMOGRAPHIC_COLUMNS: tuple[str, ...] = (
    "CustomerID", "AccountName", "Domain", "DUNSNumber", "OrgSize", "City", "State",
    "PostalCode", "Country", "Industry", "Vertical", "Segment", "SubSegment",
)
SUMMARY_COLUMNS: tuple[str, ...] = ("SMCTypeSummary", "HasEA", "HasOpen", "HasAWS",
                                    "HasGoogle")
#: Per product, in this order, after the cohorts: ``<Area><suffix>``.
PROPENSITY_SUFFIXES: tuple[str, ...] = (
    "Fit", "Intent", "FitClass", "IntentClass", "Cell", "Cluster", "Probability",
    "PotentialRevenue", "SignalExplanation", "FitExplanation", "EvidenceURL", "CellChange",
)
ADOPTION_SUFFIXES: tuple[str, ...] = ("Status", "Seats", "DeploymentPct", "UsagePct",
                                      "DeploymentBand", "UsageBand")
RENEWAL_COLUMNS: tuple[str, ...] = ("AgreementID", "AgreementEndDate", "RevenueDivision",
                                    "ExpiringRevenue")
TRAILER_COLUMNS: tuple[str, ...] = ("PotentialRevenue", "ReportMonth")

REPORT_SPECS: dict[str, ReportSpec] = {
    "agreement_renewal": ReportSpec(
        "agreement_renewal", "Agreement renewal", ("renewal",),
        ("RenewalAutoRenewing", "RenewalAtRisk")),
    "azure": ReportSpec(
        "azure", "Azure propensity", ("azure",), ("AzureNoConsumptionHasM365",)),
    "d365": ReportSpec(
        "d365", "D365 propensity", ("d365_bc", "d365_sales_pro", "power_apps"),
        ("D365BCOnPremERP", "D365SalesProNoCRM", "PowerAppsCompetingPlatform"),
        ("d365_bc", "d365_sales_pro", "power_apps")),
    "m365": ReportSpec(
        "m365", "M365 propensity", ("m365", "copilot"),
        ("M365MigrateOnPremises", "M365MigrateDark", "M365CrossSellSolution",
         "M365CrossSellSeats", "M365Copilot", "HasCopilot"),
        ("m365", "copilot")),
    "security": ReportSpec(
        "security", "Security propensity", ("security_e5",), ("SecurityM365ToE5",),
        ("m365", "security_e5")),
    "surface": ReportSpec(
        "surface", "Surface propensity", ("surface",),
        ("SurfaceAcquire1to49", "SurfaceAcquire50Plus", "SurfaceUpsell1to24",
         "SurfaceUpsell25Plus")),
}


def report_columns(report: str) -> list[str]:
    """The columns of ``report`` in their published order (DOMAIN.md section 4).

    Partner, firmographics, SMB type summary and flags, cohorts (Yes/No), adoption of the
    report's subscription products, then the propensity block of each product; the renewal
    report adds every other area's cluster and the agreement columns; every report ends with
    the total potential revenue (the default sort) and the month.
    """
    spec = REPORT_SPECS[report]
    cols = [*PARTNER_COLUMNS, *FIRMOGRAPHIC_COLUMNS, *SUMMARY_COLUMNS, *spec.cohorts]
    for p in spec.adoption:
        cols += [f"{AREAS[p]}{s}" for s in ADOPTION_SUFFIXES]
    for p in spec.products:
        cols += [f"{AREAS[p]}{s}" for s in PROPENSITY_SUFFIXES]
    if report == "agreement_renewal":
        cols += [f"{AREAS[p]}Cluster" for p in PRODUCTS if p != "renewal"]
        cols += list(RENEWAL_COLUMNS)
    return cols + list(TRAILER_COLUMNS)


def report_numeric_columns(report: str) -> list[str]:
    """Numeric columns of ``report`` (scores, probabilities, revenue, percentages, seats).

    They stay numbers in Parquet and CSV; every other column is text, and the flag columns
    (:func:`report_flag_columns`) hold "Yes" or "No".
    """
    numeric = ("Fit", "Intent", "Probability", "PotentialRevenue", "Seats", "DeploymentPct",
               "UsagePct", "ExpiringRevenue")
    flags = set(report_flag_columns(report))
    return [c for c in report_columns(report) if c.endswith(numeric) and c not in flags
            and not c.endswith(("FitClass", "IntentClass"))]


def report_flag_columns(report: str) -> list[str]:
    """Yes/No columns of ``report``: licensing and competitor flags, and its cohorts."""
    return ["HasEA", "HasOpen", "HasAWS", "HasGoogle", *REPORT_SPECS[report].cohorts]
