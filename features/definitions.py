"""The feature and label definitions: pure Ibis table -> table functions, one set for every engine.

Each family function takes Ibis tables (already validated, see :mod:`features.validate`) and the
cut-off, and returns a :class:`Defined`: an Ibis expression with **one row per customer of the
population** (``customer_id`` plus the family's columns) and a :class:`Spec` per column (family
and meaning). Nothing here reads or writes: the same expressions are compiled to DuckDB SQL or to
Spark SQL by Ibis, so the two engines run one definition.

Point-in-time by construction: every family filters its input on the column that says when a
row became known, before it aggregates; :data:`POINT_IN_TIME` lists the rule per input.

Labels (:func:`label_table`) look forward on purpose and are written to their own table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from propensity import contracts as C
from propensity.months import add_months, cutoff

# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------

#: Products sold as subscriptions (everything but agreement renewal).
SUB_PRODUCTS: tuple[str, ...] = tuple(p for p in C.PRODUCTS if p != "renewal")
#: Per-user licence products, where deployment and usage mean something.
SEAT_PRODUCTS: tuple[str, ...] = ("m365", "copilot", "d365_bc", "d365_sales_pro", "power_apps",
                                  "security_e5")
#: Products that at least one topic points to.
AREA_PRODUCTS: tuple[str, ...] = tuple(
    p for p in C.PRODUCTS if any(p in t.product_areas for t in C.TOPICS))
#: Statuses under which the customer owns the product (a paid term that has not expired).
OWNED_STATUSES: tuple[str, ...] = ("active", "grace", "suspended")
#: Statuses that carry an entitlement users can use (Partner Center: not suspended or expired).
ENTITLED_STATUSES: tuple[str, ...] = ("trial", "active", "grace")
#: Status shown per product, highest priority first; "none" when the customer never had it.
STATUS_PRIORITY: tuple[str, ...] = ("active", "grace", "suspended", "trial", "expired")
#: Five colour bands, best first, from per-segment quintiles (Gainsight).
BANDS: tuple[str, ...] = ("green", "lime", "yellow", "orange", "red")
#: Lower edges (exclusive) of the share of peers at or below a value, for the first four bands.
BAND_EDGES: tuple[float, ...] = (0.8, 0.6, 0.4, 0.2)
#: Signal count windows in days, and the trend windows (recent vs the previous span).
WINDOWS: tuple[int, ...] = (30, 90, 180)
TREND_RECENT, TREND_PREVIOUS = 30, 90
#: Days ahead for "expiring soon" / "auto-renewing soon" / "agreement ending soon".
HORIZON_DAYS = 90
#: Days back for the recent win/loss counts. Counts "before the cut-off" grow with the
#: length of the lake's history, so their meaning changes from one cut-off to the next
#: (one renewal won meant "just renewed" in a young lake and "renewed last year" in an old
#: one); a window every cut-off sees in full keeps it the same. The opportunity history
#: starts at least this long before the first feature month (sandbox: three months).
WIN_LOSS_RECENT_DAYS = 90
#: A deployment below this share of the segment's mean is "low assignment".
LOW_ASSIGNMENT_RATIO = 0.8
#: Months after the cut-off that labels look at (M, M+1, M+2).
LABEL_HORIZON = 3

FAMILIES: dict[str, str] = {
    "key": "Row key",
    "firm": "Firmographics",
    "ib": "Install base",
    "adopt": "Adoption",
    "agr": "Agreements",
    "wl": "Win/loss history",
    "sig": "Signals per topic",
    "sigarea": "Signals per product area",
    "label": "Labels (own table)",
}

#: The point-in-time rule per input, for the cut-off of month M (its first instant).
POINT_IN_TIME: tuple[tuple[str, str], ...] = (
    ("companies", "`created_at` before the cut-off (this defines the population)"),
    ("subscriptions", "the snapshot at the close of M-1 (partition `month=M-1`); rows with "
     "`start_date` on or after the cut-off are ignored"),
    ("agreements", "`start_date` before the cut-off; in force means `end_date` on or after it"),
    ("opportunities", "`created_at` before the cut-off; an outcome counts only if `closed_at` "
     "is before it, otherwise the opportunity was open at the cut-off"),
    ("signals", "`observed_at` before the cut-off, deduplicated by `signal_id` keeping the "
     "earliest observation, and `published_at` before the cut-off; a signal is dated by "
     "`published_at` (the day it was observed when null); partitions after M are not read, "
     "and the crawl for month P (partition `month=P`) counts as observed just before P's "
     "cut-off whatever day it ran: it is the web as of that cut-off"),
)

_EPOCH = dt.date(1970, 1, 1)
I64, F64 = "int64", "float64"


@dataclass(frozen=True)
class AsOf:
    """The cut-off of ``month`` in the forms the definitions need."""

    month: str

    @property
    def instant(self) -> dt.datetime:
        return cutoff(self.month)

    @property
    def date(self) -> ir.DateScalar:
        """The cut-off day as an Ibis date literal."""
        return ibis.literal(self.instant.date(), type="date")

    @property
    def timestamp(self) -> ir.TimestampScalar:
        return ibis.literal(self.instant, type="timestamp")

    @property
    def day(self) -> ir.IntegerScalar:
        """The cut-off as days since 1970-01-01 (an int64 literal)."""
        return ibis.literal((self.instant.date() - _EPOCH).days, type=I64)

    def days_until(self, col: ir.DateValue) -> ir.IntegerValue:
        """Whole days from the cut-off to ``col`` (negative when ``col`` is before it)."""
        return col.epoch_days().cast(I64) - self.day

    def days_since(self, col: ir.DateValue) -> ir.IntegerValue:
        """Whole days from ``col`` to the cut-off (positive when ``col`` is before it)."""
        return self.day - col.epoch_days().cast(I64)


@dataclass(frozen=True)
class Spec:
    """A feature column: its name, family, meaning and whether it may be null."""

    name: str
    family: str
    meaning: str
    nullable: bool = True


@dataclass(frozen=True)
class Defined:
    """An Ibis table expression and the specs of its columns (key columns excluded)."""

    table: ir.Table
    specs: tuple[Spec, ...]


@dataclass(frozen=True)
class Inputs:
    """Validated input tables, each with at least its contract columns."""

    companies: ir.Table
    subscriptions: ir.Table
    agreements: ir.Table
    opportunities: ir.Table
    signals: ir.Table


class _Columns:
    """Collects (name -> aggregate, fill value, spec) while a family is being defined."""

    def __init__(self, family: str) -> None:
        self.family = family
        self.aggs: dict[str, ir.Value] = {}
        self.fills: dict[str, Any] = {}
        self.specs: list[Spec] = []

    def add(self, name: str, expr: ir.Value, meaning: str, fill: Any = None) -> None:
        if not name.startswith(self.family + "_"):
            raise ValueError(f"feature {name!r} must start with its family prefix {self.family}_")
        self.aggs[name] = expr
        if fill is not None:
            self.fills[name] = fill
        self.specs.append(Spec(name, self.family, meaning, nullable=fill is None))


def _pivot(population: ir.Table, long: ir.Table, cols: _Columns,
           derived: Callable[[dict[str, ir.Value]], dict[str, ir.Value]] | None = None
           ) -> Defined:
    """Aggregate ``long`` per customer with ``cols``, attach to the population, fill, derive.

    One select after the join (fills and derived columns inlined) keeps the Ibis expression,
    and the SQL it compiles to, small.
    """
    agg = long.group_by("customer_id").aggregate(**cols.aggs)
    joined = population.select("customer_id").left_join(agg, "customer_id")
    vals = {n: joined[n].fill_null(cols.fills[n]) if n in cols.fills else joined[n]
            for n in cols.aggs}
    if derived is not None:
        vals |= derived(vals)
    names = [s.name for s in cols.specs]
    table = joined.select(joined.customer_id, **{n: vals[n] for n in names})
    return Defined(table, tuple(cols.specs))


def _only(where: ir.BooleanValue, value: ir.Value) -> ir.Value:
    """``value`` where ``where`` holds, else null: the portable way to filter an aggregate.

    ``agg(CASE WHEN ...)`` rather than ``agg(...) FILTER (WHERE ...)``: the same result on
    every engine, and several times faster on DuckDB for wide pivots.
    """
    return ibis.cases((where, value), else_=ibis.null(value.type().copy(nullable=True)))


def _count(where: ir.BooleanValue) -> ir.IntegerValue:
    """Number of rows where ``where`` holds (0, not null, for a group without such rows)."""
    return ibis.cases((where, 1), else_=0).cast(I64).sum()


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """``num / den`` as float64, null when ``den`` is zero or null."""
    return num.cast(F64) / den.cast(F64).nullif(0.0)


# --------------------------------------------------------------------------------------
# Population and firmographics
# --------------------------------------------------------------------------------------


def population(companies: ir.Table, asof: AsOf) -> ir.Table:
    """The customers known at the cut-off: one row per ``customer_id`` created before it."""
    return companies.filter(companies.created_at < asof.date)


def firmographics(companies: ir.Table, asof: AsOf) -> Defined:
    """Grain: one row per customer of the population. Static facts and the segmentation.

    Subsegment and ACR are as of the last segmentation (the start of history), so they reveal
    nothing bought later.
    """
    c = population(companies, asof)
    specs = (
        Spec("firm_employees", "firm", "number of employees", False),
        Spec("firm_org_size", "firm", "employee band, e.g. '10-24' (OrgSize)", False),
        Spec("firm_subsegment", "firm", "SMB subsegment: Very small, Medium or Upper medium", False),
        Spec("firm_industry", "firm", "industry", False),
        Spec("firm_vertical", "firm", "vertical within the industry", False),
        Spec("firm_country", "firm", "country of the head office (ISO alpha-2)", False),
        Spec("firm_acr_monthly_usd", "firm",
             "Azure consumption revenue per month at the last segmentation, USD", False),
        Spec("firm_account_age_days", "firm", "days from the account's creation to the cut-off", False),
    )
    table = c.select(
        "customer_id",
        as_of=asof.date,
        firm_employees=c.employees.cast(I64),
        firm_org_size=c.org_size,
        firm_subsegment=c.subsegment,
        firm_industry=c.industry,
        firm_vertical=c.vertical,
        firm_country=c.country,
        firm_acr_monthly_usd=c.acr_monthly_usd.cast(F64),
        firm_account_age_days=asof.days_since(c.created_at),
    )
    return Defined(table, specs)


# --------------------------------------------------------------------------------------
# Install base and adoption (from the subscription snapshot at the cut-off)
# --------------------------------------------------------------------------------------


def _book(subscriptions: ir.Table, asof: AsOf) -> ir.Table:
    """The subscription snapshot as known at the cut-off (nothing that starts later)."""
    return subscriptions.filter(subscriptions.start_date < asof.date)


def install_base(pop: ir.Table, subscriptions: ir.Table, asof: AsOf) -> Defined:
    """Grain: one row per customer. What each customer owns per product at the cut-off.

    ``subscriptions`` is the snapshot at the close of the month before the cut-off.
    """
    s = _book(subscriptions, asof)
    owned = s.status.isin(OWNED_STATUSES)
    rank = ibis.cases(*((s.status == st, len(STATUS_PRIORITY) - i)
                        for i, st in enumerate(STATUS_PRIORITY)), else_=0)
    cols = _Columns("ib")
    for p in SUB_PRODUCTS:
        is_p = s.product == p
        cols.add(f"ib_{p}_owned", _only(is_p, owned).any(),
                 f"owns {p}: a subscription that is active, in grace or suspended", fill=False)
        cols.add(f"ib_{p}_status", _only(is_p, rank).max(),
                 f"most advanced status of any {p} subscription: "
                 f"{', '.join(STATUS_PRIORITY)} or none", fill=0)
        cols.add(f"ib_{p}_seats", _only(is_p & owned, s.seats_sold).sum(),
                 f"{p} licences (devices for surface) bought on owned subscriptions", fill=0)
        cols.add(f"ib_{p}_subscriptions", _count(is_p & owned),
                 f"number of owned {p} subscriptions", fill=0)
        cols.add(f"ib_{p}_tenure_days", asof.days_since(_only(is_p & owned, s.start_date).min()),
                 f"days since the earliest owned {p} subscription started; null when not owned")
        cols.add(f"ib_{p}_revenue_usd", _only(is_p & owned, s.monthly_revenue_usd).sum(),
                 f"monthly revenue of owned {p} subscriptions, USD (ACR for azure)", fill=0.0)
        cols.add(f"ib_{p}_trial", _only(is_p, s.status == "trial").any(),
                 f"has a {p} trial running at the cut-off", fill=False)
    cols.add("ib_revenue_usd", _only(owned, s.monthly_revenue_usd).sum(),
             "monthly revenue of all owned subscriptions, USD", fill=0.0)

    def derived(t: dict[str, ir.Value]) -> dict[str, ir.Value]:
        out: dict[str, ir.Value] = {}
        for p in SUB_PRODUCTS:
            r = t[f"ib_{p}_status"]
            out[f"ib_{p}_status"] = ibis.cases(
                *((r == len(STATUS_PRIORITY) - i, st) for i, st in enumerate(STATUS_PRIORITY)),
                else_="none")
        out["ib_products_owned"] = sum(
            (t[f"ib_{p}_owned"].cast(I64) for p in SUB_PRODUCTS), ibis.literal(0, type=I64))
        return out

    cols.specs.append(Spec("ib_products_owned", "ib", "number of products owned", False))
    return _pivot(pop, s, cols, derived)


def adoption(pop: ir.Table, subscriptions: ir.Table, companies: ir.Table, asof: AsOf
             ) -> Defined:
    """Grain: one row per customer. Adoption metrics of DOMAIN.md section 5, per product.

    Deployment % = assigned / sold licences; usage % = active users (28 days) / assigned, over
    the subscriptions that carry an entitlement (trial, active, grace). Bands compare a customer
    with the customers of the same subsegment that have the product: the share of them at or
    below its value (cume_dist) above 0.8 is green, 0.6 lime, 0.4 yellow, 0.2 orange, else red.
    """
    s = _book(subscriptions, asof)
    horizon = asof.days_until(s.end_date)
    soon = (horizon >= 0) & (horizon < HORIZON_DAYS) & s.status.isin(("active", "grace"))

    # term ends per product (every subscription product)
    ends = _Columns("adopt")
    for p in SUB_PRODUCTS:
        is_p = s.product == p
        ends.add(f"adopt_{p}_expiring_90d", _only(is_p, soon & ~s.auto_renew).any(),
                 f"a {p} subscription without auto-renew ends within {HORIZON_DAYS} days",
                 fill=False)
        ends.add(f"adopt_{p}_auto_renewing_90d", _only(is_p, soon & s.auto_renew).any(),
                 f"a {p} subscription renews automatically within {HORIZON_DAYS} days",
                 fill=False)
    ends_t = _pivot(pop, s, ends)

    # seat metrics per (customer, product), then bands within (product, subsegment)
    e = s.filter(s.status.isin(ENTITLED_STATUSES) & s.product.isin(SEAT_PRODUCTS))
    long = e.group_by(["customer_id", "product"]).aggregate(
        sold=e.seats_sold.sum(),
        assigned=e.seats_assigned.sum(),
        active=e.active_users_28d.sum(),
        overage_seats=ibis.greatest(e.seats_assigned - e.seats_sold, 0).sum(),
    )
    seg = population(companies, asof).select("customer_id", "subsegment")
    long = long.inner_join(seg, "customer_id")
    long = long.mutate(deployment=_ratio(long.assigned, long.sold),
                       usage=_ratio(long.active, long.assigned))
    for metric in ("deployment", "usage"):
        w = ibis.window(group_by=[long.product, long.subsegment, long[metric].isnull()],
                        order_by=long[metric])
        cd = ibis.cume_dist().over(w)
        long = long.mutate(**{f"{metric}_band": ibis.cases(
            (long[metric].isnull(), ibis.null("string")),
            *((cd > edge, band) for edge, band in zip(BAND_EDGES, BANDS[:-1], strict=True)),
            else_=BANDS[-1])})
    wseg = ibis.window(group_by=[long.product, long.subsegment])
    long = long.mutate(seg_mean=long.deployment.mean().over(wseg))

    seats = _Columns("adopt")
    for p in SEAT_PRODUCTS:
        is_p = long.product == p
        seats.add(f"adopt_{p}_deployment_pct", _only(is_p, long.deployment).max(),
                  f"{p} licences assigned / sold (may exceed 1: overage); null without {p}")
        seats.add(f"adopt_{p}_usage_pct", _only(is_p, long.usage).max(),
                  f"{p} users active in the last 28 days / licences assigned; null without {p}")
        seats.add(f"adopt_{p}_active_28d", _only(is_p, long.active).max(),
                  f"{p} users active in the 28 days before the cut-off", fill=0)
        seats.add(f"adopt_{p}_overage_seats", _only(is_p, long.overage_seats).max(),
                  f"{p} licences assigned beyond those bought (licence overage)", fill=0)
        seats.add(f"adopt_{p}_overage", _only(is_p, long.overage_seats > 0).any(),
                  f"over the {p} licence limit (more assigned than bought)", fill=False)
        seats.add(f"adopt_{p}_no_recent_activity",
                  _only(is_p, (long.sold > 0) & (long.active == 0)).any(),
                  f"has {p} licences but no user active in the last 28 days", fill=False)
        seats.add(f"adopt_{p}_low_assignment",
                  _only(is_p, long.deployment < LOW_ASSIGNMENT_RATIO * long.seg_mean).any(),
                  f"{p} deployment below {LOW_ASSIGNMENT_RATIO:.0%} of the mean of similar "
                  f"customers (same subsegment, owning {p})", fill=False)
        seats.add(f"adopt_{p}_deployment_band", _only(is_p, long.deployment_band).max(),
                  f"{p} deployment colour band within the subsegment "
                  f"({', '.join(BANDS)}); null without {p}")
        seats.add(f"adopt_{p}_usage_band", _only(is_p, long.usage_band).max(),
                  f"{p} usage colour band within the subsegment; null without {p}")
    seats_t = _pivot(pop, long, seats)
    return _join_families(ends_t, seats_t)


# --------------------------------------------------------------------------------------
# Agreements and win/loss
# --------------------------------------------------------------------------------------


def agreements(pop: ir.Table, agreements_table: ir.Table, asof: AsOf) -> Defined:
    """Grain: one row per customer. Licensing agreements live at the cut-off."""
    a = agreements_table.filter(agreements_table.start_date < asof.date)
    days = asof.days_until(a.end_date)
    active = days >= 0
    ending = active & (days < HORIZON_DAYS)
    cols = _Columns("agr")
    cols.add("agr_active_count", _count(active),
             "agreements in force at the cut-off", fill=0)
    cols.add("agr_days_to_end", _only(active, days).min(),
             "days from the cut-off to the end of the soonest-ending agreement in force; "
             "null when none")
    cols.add("agr_due_revenue_usd", _only(active, a.due_revenue_usd).sum(),
             "revenue due at renewal over agreements in force, USD", fill=0.0)
    cols.add("agr_due_revenue_90d_usd", _only(ending, a.due_revenue_usd).sum(),
             f"revenue due at renewal over agreements ending within {HORIZON_DAYS} days, USD",
             fill=0.0)
    cols.add("agr_ending_90d", ending.any(),
             f"an agreement in force ends within {HORIZON_DAYS} days", fill=False)
    cols.add("agr_has_ea", _only(active, a.program == "EA").any(),
             "has an Enterprise Agreement in force (HasEA)", fill=False)
    return _pivot(pop, a, cols)


def win_loss(pop: ir.Table, opportunities: ir.Table, asof: AsOf) -> Defined:
    """Grain: one row per customer. Opportunities per product as known at the cut-off."""
    o = opportunities.filter(opportunities.created_at < asof.date)
    closed = o.closed_at.notnull() & (o.closed_at < asof.date)
    opened_ago, closed_ago = asof.days_since(o.created_at), asof.days_since(o.closed_at)
    w = WIN_LOSS_RECENT_DAYS
    cols = _Columns("wl")
    for p in C.PRODUCTS:
        is_p = o.product == p
        cols.add(f"wl_{p}_opps", _count(is_p),
                 f"{p} opportunities opened before the cut-off", fill=0)
        cols.add(f"wl_{p}_wins", _count(is_p & closed & (o.outcome == "won")),
                 f"{p} opportunities won before the cut-off", fill=0)
        cols.add(f"wl_{p}_losses",
                 _count(is_p & closed & (o.outcome == "lost")),
                 f"{p} opportunities lost before the cut-off", fill=0)
        cols.add(f"wl_{p}_open", _count(is_p & ~closed),
                 f"{p} opportunities open at the cut-off", fill=0)
        cols.add(f"wl_{p}_opps_{w}d", _count(is_p & (opened_ago <= w)),
                 f"{p} opportunities opened in the {w} days before the cut-off", fill=0)
        cols.add(f"wl_{p}_wins_{w}d",
                 _count(is_p & closed & (o.outcome == "won") & (closed_ago <= w)),
                 f"{p} opportunities won in the {w} days before the cut-off", fill=0)
        cols.add(f"wl_{p}_losses_{w}d",
                 _count(is_p & closed & (o.outcome == "lost") & (closed_ago <= w)),
                 f"{p} opportunities lost in the {w} days before the cut-off", fill=0)
        cols.add(f"wl_{p}_days_since_last", asof.days_since(_only(is_p, o.created_at).max()),
                 f"days since the last {p} opportunity was opened; null when none")
    rates = [Spec(f"wl_{p}_win_rate", "wl",
                  f"{p} wins / (wins + losses) before the cut-off; null when none closed")
             for p in C.PRODUCTS]
    cols.specs.extend(rates)

    def derived(t: dict[str, ir.Value]) -> dict[str, ir.Value]:
        return {f"wl_{p}_win_rate": _ratio(t[f"wl_{p}_wins"],
                                           t[f"wl_{p}_wins"] + t[f"wl_{p}_losses"])
                for p in C.PRODUCTS}

    return _pivot(pop, o, cols, derived)


# --------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------


def dedupe_signals(signals: ir.Table, asof: AsOf) -> ir.Table:
    """Grain: one row per ``signal_id`` observed before the cut-off (its earliest observation).

    A crawl sees everything published so far, so later crawls repeat earlier signals; the
    values of the earliest observation are kept (ties, which a crawl reporting a signal twice
    would make, go to the most confident copy, then the earliest date: deterministic on every
    engine). The signal's date is its ``published_at``, else the day it was observed; signals
    dated on or after the cut-off are dropped, and ``age`` is the days from that date to the
    cut-off.
    """
    obs = signals.observed_at
    if "month" in signals.columns:
        # the crawl for month P reads the web as of P's cut-off, whatever day it ran (the
        # monthly job crawls on the 25th): its observations count at that cut-off
        part_cut = (signals.month + "-01").cast("date").cast("timestamp")
        obs = ibis.least(obs, part_cut - ibis.interval(hours=1))
    s = signals.mutate(_obs=obs)
    s = s.filter(s._obs < asof.timestamp).select(
        "signal_id", "customer_id", "topic", "source", "confidence", observed_at=s._obs,
        day=ibis.coalesce(s.published_at, s._obs.date()))
    w = ibis.window(group_by=s.signal_id, order_by=[s.observed_at, s.confidence.desc(), s.day])
    d = s.mutate(_rank=ibis.row_number().over(w))
    d = d.filter((d._rank == 0) & (d.day < asof.date))
    return d.drop("_rank").mutate(age=asof.days_since(d.day))


def signal_cells(signals: ir.Table, month: str) -> ir.Table:
    """Grain: one row per (customer_id, topic) with a signal before the cut-off.

    Columns: ``n_all`` (signals ever), ``n30``/``n90``/``n180`` (signals dated in those
    windows), ``n_prev`` (dated in the trend's previous window), ``last_age`` (days since the
    latest), ``max_conf`` (strongest confidence) and one 0/1 flag per kind of source
    (``src_site``, ...). Every signal feature derives from this table, which is much smaller
    than the signals (an engine may compute it once and reuse it). Rows with a null
    ``customer_id`` gather the unresolved signals: they count for coverage and never join a
    customer.
    """
    d = dedupe_signals(signals, AsOf(month))
    age = d.age
    aggs: dict[str, ir.Value] = {
        "n_all": d.count(),
        **{f"n{w}": _count(age <= w) for w in WINDOWS},
        "n_prev": _count((age > TREND_RECENT) & (age <= TREND_RECENT + TREND_PREVIOUS)),
        "last_age": age.min(),
        "max_conf": d.confidence.max(),
        **{f"src_{src}": ibis.cases((d.source == src, 1), else_=0).cast(I64).max()
           for src in C.SOURCES},
    }
    return d.group_by(["customer_id", "topic"]).aggregate(**aggs)


def _sources(t: ir.Table) -> ir.IntegerValue:
    """Distinct kinds of source from the 0/1 source flags."""
    return sum((t[f"src_{src}"] for src in C.SOURCES[1:]), t[f"src_{C.SOURCES[0]}"])


def _signal_specs(family: str, prefix: str, label: str) -> list[Spec]:
    """The columns of one topic or product area, in table order."""
    out = [Spec(f"{prefix}_count_{w}d", family,
                f"{label}: signals dated in the {w} days before the cut-off", False)
           for w in WINDOWS]
    out += [
        Spec(f"{prefix}_trend", family,
             f"{label}: signals in the last {TREND_RECENT} days minus the average per "
             f"{TREND_RECENT} days over the {TREND_PREVIOUS} days before (> 0: rising)", False),
        Spec(f"{prefix}_days_since_last", family,
             f"{label}: days since the latest signal; null when never seen"),
        Spec(f"{prefix}_seen", family,
             f"{label}: any signal ever seen before the cut-off (False = no signal seen, as "
             "opposed to a weak one)", False),
        Spec(f"{prefix}_n_sources", family,
             f"{label}: distinct kinds of source (site, press, forum, social)", False),
        Spec(f"{prefix}_max_confidence", family,
             f"{label}: strongest extraction confidence; null when never seen"),
    ]
    return out


def _signal_pivot(pop: ir.Table, rows: ir.Table, key: str, family: str,
                  groups: list[tuple[str, str, str]]) -> Defined:
    """One block of columns per ``(prefix, label, value)``, from the rows where key == value.

    ``rows`` has one row per (customer_id, key). Each block is a filter and a left join: on
    wide pivots this beats one aggregate of CASE expressions on every engine.
    """
    out = pop.select("customer_id")
    for prefix, _, value in groups:
        r = rows.filter(rows[key] == value)
        block = r.select(
            "customer_id",
            **{f"{prefix}_n{w}": r[f"n{w}"] for w in WINDOWS},
            **{f"{prefix}_nprev": r.n_prev, f"{prefix}_last": r.last_age,
               f"{prefix}_nall": r.n_all, f"{prefix}_src": _sources(r),
               f"{prefix}_conf": r.max_conf},
        )
        out = out.left_join(block, "customer_id").drop("customer_id_right")
    return _signal_select(out, family, groups)


def _signal_select(t: ir.Table, family: str, groups: list[tuple[str, str, str]]) -> Defined:
    """The final columns of each block from its raw ones: fills, flags and trend in one select."""
    vals: dict[str, ir.Value] = {}
    specs: list[Spec] = []
    for prefix, label, _ in groups:
        counts = {w: t[f"{prefix}_n{w}"].fill_null(0) for w in WINDOWS}
        prev = t[f"{prefix}_nprev"].fill_null(0)
        vals |= {f"{prefix}_count_{w}d": counts[w] for w in WINDOWS}
        vals[f"{prefix}_trend"] = (counts[TREND_RECENT].cast(F64)
                                   - prev.cast(F64) * (TREND_RECENT / TREND_PREVIOUS))
        vals[f"{prefix}_days_since_last"] = t[f"{prefix}_last"]
        vals[f"{prefix}_seen"] = (t[f"{prefix}_nall"] > 0).fill_null(False)
        vals[f"{prefix}_n_sources"] = t[f"{prefix}_src"].fill_null(0)
        vals[f"{prefix}_max_confidence"] = t[f"{prefix}_conf"]
        specs += _signal_specs(family, prefix, label)
    return Defined(t.select("customer_id", **{s.name: vals[s.name] for s in specs}),
                   tuple(specs))


def signal_topics(pop: ir.Table, cells: ir.Table) -> Defined:
    """Grain: one row per customer. Signal counts, trend, recency, sources, confidence per topic.

    ``cells`` is :func:`signal_cells`. Also three totals over every topic.
    """
    tot = _Columns("sig")
    tot.add("sig_any_seen", (cells.n_all > 0).any(),
            "any resolved signal ever seen for the customer before the cut-off", fill=False)
    tot.add("sig_count_90d", cells.n90.sum(), "signals of any topic in the last 90 days", fill=0)
    tot.add("sig_topics_90d", _count(cells.n90 > 0),
            "distinct topics with a signal in the last 90 days", fill=0)
    totals = _pivot(pop, cells, tot)
    groups = [(f"sig_{t.id}", f"topic {t.id}", t.id) for t in C.TOPICS]
    return _join_families(totals, _signal_pivot(pop, cells, "topic", "sig", groups))


def area_topics(product: str) -> tuple[str, ...]:
    """The topics whose product areas include ``product`` (the contract's mapping)."""
    return tuple(t.id for t in C.TOPICS if product in t.product_areas)


def signal_areas(pop: ir.Table, cells: ir.Table) -> Defined:
    """Grain: one row per customer. The signal metrics per product area.

    A product area gathers the topics that point to it in :data:`propensity.contracts.TOPICS`
    (the mapping every signal's ``product_areas`` carries); each signal has one topic, so an
    area's counts are sums over its topics and nothing is counted twice. ``cells`` is
    :func:`signal_cells`.
    """
    out = pop.select("customer_id")
    groups = [(f"sigarea_{p}", f"product area {p}", p) for p in AREA_PRODUCTS]
    for prefix, _, product in groups:
        r = cells.filter(cells.topic.isin(area_topics(product)) & cells.customer_id.notnull())
        block = r.group_by("customer_id").aggregate(
            **{f"{prefix}_n{w}": r[f"n{w}"].sum() for w in WINDOWS},
            **{f"{prefix}_nprev": r.n_prev.sum(), f"{prefix}_last": r.last_age.min(),
               f"{prefix}_nall": r.n_all.sum(), f"{prefix}_src": _sources_any(r),
               f"{prefix}_conf": r.max_conf.max()},
        )
        out = out.left_join(block, "customer_id").drop("customer_id_right")
    return _signal_select(out, "sigarea", groups)


def _sources_any(t: ir.Table) -> ir.IntegerValue:
    """Distinct kinds of source over several rows: each flag's max, summed."""
    flags = [t[f"src_{src}"].max() for src in C.SOURCES]
    return sum(flags[1:], flags[0])


# --------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------


def _join_families(left: Defined, right: Defined) -> Defined:
    """Join two one-row-per-customer families on ``customer_id``."""
    t = left.table.left_join(right.table, "customer_id").drop("customer_id_right")
    return Defined(t, left.specs + right.specs)


KEY_SPECS: tuple[Spec, ...] = (
    Spec("customer_id", "key", "the vendor's customer identifier", False),
    Spec("as_of", "key", "the cut-off day: features use only what was known before it", False),
)


def feature_families(inputs: Inputs, month: str, cells: ir.Table | None = None
                     ) -> list[Defined]:
    """Every family for the cut-off of ``month``, firmographics first (it holds the keys).

    ``inputs.subscriptions`` must be the snapshot at the close of the month before ``month``;
    ``inputs.signals`` may hold every crawl partition (later ones are ignored by
    ``observed_at``). ``cells`` may pass :func:`signal_cells` already computed (an engine
    computes it once and reuses it).
    """
    asof = AsOf(month)
    firm = firmographics(inputs.companies, asof)
    pop = firm.table.select("customer_id")
    if cells is None:
        cells = signal_cells(inputs.signals, month)
    return [
        firm,
        install_base(pop, inputs.subscriptions, asof),
        adoption(pop, inputs.subscriptions, inputs.companies, asof),
        agreements(pop, inputs.agreements, asof),
        win_loss(pop, inputs.opportunities, asof),
        signal_topics(pop, cells),
        signal_areas(pop, cells),
    ]


def assemble(families: list[Defined], ordered: bool = True) -> Defined:
    """Grain: one row per (customer_id, as_of). The families joined on ``customer_id``.

    Columns: ``customer_id``, ``as_of``, then one block per family; rows ordered by customer
    unless ``ordered`` is False (sorting a wide table is a large share of a big build).
    """
    out = families[0]
    for part in families[1:]:
        out = _join_families(out, part)
    specs = (*KEY_SPECS, *out.specs)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate feature names in the definitions")
    table = out.table.select(*names)
    return Defined(table.order_by("customer_id") if ordered else table, specs)


def feature_table(inputs: Inputs, month: str) -> Defined:
    """Grain: one row per (customer_id, as_of) for the cut-off of ``month`` (all families)."""
    return assemble(feature_families(inputs, month))


def signal_coverage(cells: ir.Table) -> ir.Table:
    """One row: signals usable at the cut-off, and how many were not resolved to a customer.

    ``cells`` is :func:`signal_cells`.
    """
    return cells.aggregate(signals=cells.n_all.sum(),
                           unresolved=_only(cells.customer_id.isnull(), cells.n_all).sum())


# --------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------


def label_months(month: str, horizon: int = LABEL_HORIZON) -> list[str]:
    """The subscription snapshots a label for ``month`` needs: ``month`` .. ``month+horizon-1``."""
    return [add_months(month, i) for i in range(horizon)]


def label_table(companies: ir.Table, opportunities: ir.Table, subscriptions: ir.Table,
                month: str, horizon: int = LABEL_HORIZON) -> Defined:
    """Grain: one row per (customer_id, as_of). Whether the customer bought each product.

    Bought = a won opportunity closed in ``[cutoff(M), cutoff(M+horizon))`` or a paid
    subscription (status in :data:`propensity.contracts.PAID_STATUSES`) whose ``start_date`` is
    in that window, found in the snapshots of months ``M`` .. ``M+horizon-1``
    (``subscriptions`` holds them, with a ``month`` column). A trial is never paid: it shows
    ``trial``, then ``expired``. This is the definition of
    :func:`sandbox.oracle.purchase_labels`, on every engine.
    """
    asof = AsOf(month)
    lo = asof.date
    hi = ibis.literal(cutoff(add_months(month, horizon)).date(), type="date")
    o = opportunities
    won = o.filter((o.outcome == "won") & o.closed_at.notnull() & (o.closed_at >= lo)
                   & (o.closed_at < hi)).select("customer_id", "product")
    s = subscriptions.filter(subscriptions.month.isin(label_months(month, horizon)))
    new = s.filter((s.start_date >= lo) & (s.start_date < hi) & s.status.isin(C.PAID_STATUSES)
                   ).select("customer_id", "product")
    bought = won.union(new, distinct=True)
    cols = _Columns("label")
    for p in C.PRODUCTS:
        cols.add(f"label_{p}", (bought.product == p).any(),
                 f"bought {p} in the {horizon} months from the cut-off (won opportunity or "
                 "new paid subscription)", fill=False)
    pop = population(companies, asof).select("customer_id")
    defined = _pivot(pop, bought, cols)
    table = defined.table.mutate(as_of=asof.date)
    names = ["customer_id", "as_of", *(s.name for s in defined.specs)]
    return Defined(table.select(*names).order_by("customer_id"), (*KEY_SPECS, *defined.specs))


# --------------------------------------------------------------------------------------
# Unbound inputs (for the catalogue and contracts: no engine needed)
# --------------------------------------------------------------------------------------


def unbound_inputs() -> Inputs:
    """Inputs as unbound Ibis tables with the contract schemas (plus ``month`` on snapshots)."""

    def t(contract: C.TableContract, monthly: bool = False) -> ir.Table:
        schema = ibis.Schema.from_pyarrow(contract.schema())
        if monthly:
            schema = ibis.schema({**dict(schema.items()), "month": "string"})
        return ibis.table(schema, name=contract.name)

    return Inputs(companies=t(C.COMPANIES), subscriptions=t(C.SUBSCRIPTIONS, True),
                  agreements=t(C.AGREEMENTS), opportunities=t(C.OPPORTUNITIES),
                  signals=t(C.SIGNALS))
