"""The sandbox market: a deterministic synthetic SMB market with latent fit and intent.

How it works, in one paragraph. Every company gets firmographics, a hidden technology and
on-premises profile and hidden traits (growth, adoption habits, taste per product). A
company's *fit* for a product is a fixed function of what a vendor could know (size,
industry, install base, technology) plus a hidden taste term. Its *intent* for a product is a
hidden state that decays each month and jumps when an *event* happens (funding, a new
office, a hiring spree, on-premises end of support, leaving a competitor, a new leader, a
security incident, ...). The monthly purchase probability is
``sigmoid(bias_p + fit + intent)`` for customers who can buy the product; purchases,
opportunities (won and lost) and subscriptions are drawn from it. Events leave *web traces*
(pages that mention a topic) with misses, plus noise mentions not driven by intent; the web
server renders pages from those traces. Intent is written only to ``truth/``; exported
tables show it only through outcomes.

Everything is vectorised with NumPy over companies x products and simulated month by month,
so a million companies over 24 months fits the benchmark's time and memory budget.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months, month_range, parse_month
from propensity.settings import SandboxSettings
from sandbox import geo, names, urls

log = logging.getLogger(__name__)

PRODUCTS = C.PRODUCTS
P = len(PRODUCTS)
PI = {p: i for i, p in enumerate(PRODUCTS)}
SUB_PRODUCTS = tuple(p for p in PRODUCTS if p != "renewal")
EVENT_TOPICS = C.EVENT_TOPICS
T = len(EVENT_TOPICS)
TI = {t: i for i, t in enumerate(EVENT_TOPICS)}

EPOCH = dt.date(1970, 1, 1)
BURN_IN_MONTHS = 12

# Target monthly purchase rate per eligible customer (renewal: per agreement holder).
TARGET_RATE = {
    "azure": 0.015, "m365": 0.03, "copilot": 0.025, "d365_bc": 0.008,
    "d365_sales_pro": 0.008, "power_apps": 0.01, "surface": 0.018, "security_e5": 0.012,
}
# Share of companies owning a product at the start of history.
INITIAL_SHARE = {
    "m365": 0.45, "azure": 0.20, "surface": 0.12, "d365_bc": 0.05, "d365_sales_pro": 0.04,
    "power_apps": 0.06, "copilot": 0.08, "security_e5": 0.15,  # copilot/e5: share of m365 owners
}
# Per-seat (or per-device) monthly list price in USD and the SKU names sold.
PRICE = {
    "azure": 0.0, "m365": 22.0, "copilot": 30.0, "d365_bc": 80.0, "d365_sales_pro": 65.0,
    "power_apps": 20.0, "surface": 1300.0 / 36, "security_e5": 57.0,
}
SKUS = {
    "azure": ("Azure plan",),
    "m365": ("Microsoft 365 Business Basic", "Microsoft 365 Business Standard",
             "Microsoft 365 Business Premium"),
    "copilot": ("Microsoft 365 Copilot",),
    "d365_bc": ("Dynamics 365 Business Central Essentials",
                "Dynamics 365 Business Central Premium"),
    "d365_sales_pro": ("Dynamics 365 Sales Professional",),
    "power_apps": ("Power Apps Premium", "Power Apps per app"),
    "surface": ("Surface Laptop 7", "Surface Pro 11", "Surface Laptop Go 3"),
    "security_e5": ("Microsoft 365 E5 Security",),
}
SKU_LIST: tuple[str, ...] = tuple(s for p in SUB_PRODUCTS for s in SKUS[p])
SKU_FIRST = {p: SKU_LIST.index(SKUS[p][0]) for p in SUB_PRODUCTS}

STATUS = C.SUBSCRIPTION_STATUSES  # trial, active, grace, suspended, expired
ST = {s: i for i, s in enumerate(STATUS)}

# Industry affinity (added to the fit logit).
INDUSTRY_AFFINITY: dict[str, dict[str, float]] = {
    "Professional Services": {"d365_sales_pro": 0.5, "copilot": 0.4, "surface": 0.3, "m365": 0.2},
    "Retail": {"d365_bc": 0.4, "power_apps": 0.2, "surface": -0.2},
    "Manufacturing": {"d365_bc": 0.7, "azure": 0.2, "power_apps": 0.3, "copilot": -0.3},
    "Healthcare": {"security_e5": 0.6, "surface": 0.4, "d365_sales_pro": -0.4},
    "Construction": {"surface": 0.3, "d365_bc": 0.3, "copilot": -0.4},
    "Hospitality": {"m365": -0.2, "azure": -0.4, "security_e5": -0.3},
    "Financial Services": {"security_e5": 0.8, "azure": 0.3, "copilot": 0.3},
    "Technology": {"azure": 0.8, "copilot": 0.5, "power_apps": 0.3, "d365_bc": -0.3},
    "Education": {"surface": 0.6, "m365": 0.3, "d365_sales_pro": -0.6},
    "Wholesale & Distribution": {"d365_bc": 0.6, "d365_sales_pro": 0.3},
    "Transportation & Logistics": {"d365_bc": 0.3, "power_apps": 0.3, "surface": 0.2},
    "Real Estate": {"d365_sales_pro": 0.4, "azure": -0.3},
    "Nonprofit": {"m365": 0.3, "azure": -0.3, "d365_sales_pro": -0.3},
}
REGULATED = ("Healthcare", "Financial Services")

# Which pages an event of each topic shows up on, with the chance of each.
TOPIC_PAGES: dict[str, tuple[tuple[str, float], ...]] = {
    "funding_round": (("press", 0.55), ("news", 0.45), ("social", 0.35)),
    "new_office": (("news", 0.45), ("blog", 0.25), ("social", 0.35), ("press", 0.15)),
    "hiring_spree": (("job", 0.8), ("social", 0.3)),
    "hiring_cloud_engineers": (("job", 0.85), ("forum", 0.1)),
    "exchange_end_of_support": (("forum", 0.5), ("blog", 0.25), ("social", 0.15)),
    "windows_server_end_of_support": (("forum", 0.5), ("blog", 0.25), ("job", 0.15)),
    "sql_server_end_of_support": (("forum", 0.5), ("blog", 0.2), ("job", 0.15)),
    "legacy_erp_end_of_support": (("forum", 0.45), ("blog", 0.25), ("job", 0.2)),
    "competitor_crm_churn": (("forum", 0.45), ("social", 0.35), ("blog", 0.2)),
    "competitor_cloud_churn": (("forum", 0.45), ("social", 0.3), ("blog", 0.2)),
    "competitor_productivity_churn": (("forum", 0.4), ("social", 0.35), ("blog", 0.2)),
    "leadership_change": (("press", 0.5), ("news", 0.5), ("social", 0.3)),
    "security_incident": (("press", 0.3), ("news", 0.35), ("forum", 0.3)),
    "ai_adoption": (("blog", 0.4), ("social", 0.4), ("job", 0.2)),
    "lowcode_initiative": (("blog", 0.3), ("forum", 0.3), ("job", 0.3)),
    "device_refresh": (("forum", 0.3), ("blog", 0.25), ("social", 0.3)),
}
PAGE_KINDS = ("home", "blog", "news", "job", "press", "forum", "social")
PKI = {k: i for i, k in enumerate(PAGE_KINDS)}

INTENT_DECAY = 0.85
#: An agreement is due for renewal (the customer can renew) in the days before it ends.
RENEWAL_WINDOW_DAYS = 92
INTENT_PRIMARY = 4.0
INTENT_SECONDARY = 3.0
NOISE_RATE = 0.03  # noise mentions per company and month


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _days(d: dt.date) -> int:
    return (d - EPOCH).days


def _month_days(month: str) -> tuple[int, int]:
    """First day of ``month`` and of the next month, as days since 1970-01-01."""
    return _days(parse_month(month)), _days(parse_month(add_months(month, 1)))


def _add_months_days(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Add calendar months to day numbers (day of month clipped to 28 for simplicity)."""
    d = days.astype("datetime64[D]")
    mon = d.astype("datetime64[M]")
    dom = np.minimum((d - mon).astype(np.int64), 27)
    return ((mon + np.asarray(months)).astype("datetime64[D]") + dom).astype(np.int64)


@dataclass
class MarketSummary:
    """What was generated, for logs and benchmarks."""

    companies: int
    months: list[str]
    rows: dict[str, int] = field(default_factory=dict)
    purchase_rate: dict[str, float] = field(default_factory=dict)


class _Subscriptions:
    """The subscription book as parallel NumPy arrays (one element per subscription)."""

    COLS = ("num", "cust", "prod", "sku", "partner", "sold", "assigned", "active", "start",
            "end", "auto", "status", "price", "ended", "suspend_until")

    def __init__(self) -> None:
        self.num = np.zeros(0, np.int64)
        self.cust = np.zeros(0, np.int64)
        self.prod = np.zeros(0, np.int16)
        self.sku = np.zeros(0, np.int16)
        self.partner = np.zeros(0, np.int32)
        self.sold = np.zeros(0, np.int64)
        self.assigned = np.zeros(0, np.int64)
        self.active = np.zeros(0, np.int64)
        self.start = np.zeros(0, np.int64)
        self.end = np.zeros(0, np.int64)
        self.auto = np.zeros(0, bool)
        self.status = np.zeros(0, np.int8)
        self.price = np.zeros(0, np.float64)
        self.ended = np.full(0, -1, np.int64)  # day it expired, -1 while alive
        self.suspend_until = np.full(0, -1, np.int64)

    def __len__(self) -> int:
        return len(self.cust)

    def add(self, **cols: np.ndarray) -> None:
        n = len(cols["cust"])
        first = int(self.num.max()) + 1 if len(self.num) else 1
        defaults = {"ended": np.full(n, -1, np.int64), "suspend_until": np.full(n, -1, np.int64),
                    "num": np.arange(first, first + n, dtype=np.int64)}
        for name in self.COLS:
            cur = getattr(self, name)
            new = cols.get(name, defaults.get(name))
            setattr(self, name, np.concatenate([cur, np.asarray(new).astype(cur.dtype)]))

    def keep(self, mask: np.ndarray) -> None:
        for name in self.COLS:
            setattr(self, name, getattr(self, name)[mask])


class MarketGenerator:
    """Generates a market into a lake. Use :func:`generate_market`."""

    def __init__(self, spec: SandboxSettings) -> None:
        self.spec = spec
        self.n = spec.companies
        self.months = month_range(add_months(spec.end_month, -(spec.months - 1)), spec.end_month)
        self.burn = month_range(add_months(self.months[0], -BURN_IN_MONTHS),
                                add_months(self.months[0], -1))
        ss = np.random.SeedSequence(spec.seed)
        (self.rng_firm, self.rng_latent, self.rng_sim, self.rng_web,
         self.rng_names) = (np.random.default_rng(s) for s in ss.spawn(5))

    # ---------------------------------------------------------------- companies
    def make_companies(self) -> None:
        """Firmographics and hidden traits."""
        n, rng = self.n, self.rng_firm
        # subsegment first: Very small most numerous
        seg = rng.choice(3, size=n, p=[0.62, 0.30, 0.08])  # 0 VS, 1 Medium, 2 UM
        emp = np.empty(n, np.int64)
        vs = seg == 0
        emp[vs] = np.clip(np.round(rng.lognormal(1.6, 0.85, vs.sum())), 1, 24)
        md = seg == 1
        emp[md] = np.round(np.exp(rng.uniform(np.log(25), np.log(300.99), md.sum())))
        um = seg == 2
        by_acr = um & (rng.random(n) < 0.3)
        by_emp = um & ~by_acr
        emp[by_emp] = np.round(np.exp(rng.uniform(np.log(301), np.log(2500), by_emp.sum())))
        emp[by_acr] = np.round(np.exp(rng.uniform(np.log(60), np.log(300), by_acr.sum())))
        self.emp = emp
        self.acr_scale = 6.0 * emp**0.9 * rng.lognormal(0, 0.7, n)
        self.acr_scale[by_acr] = rng.uniform(1100, 4500, by_acr.sum())
        self.force_azure = by_acr

        # geography
        cw = np.array([c.weight for c in geo.COUNTRIES])
        self.country_idx = rng.choice(len(geo.COUNTRIES), size=n, p=cw / cw.sum())
        city_u = rng.random(n)
        postal_r = rng.integers(0, 1000, size=(n, 6))

        # industry
        inds = list(names.INDUSTRIES)
        iw = np.array([names.INDUSTRIES[i][0] for i in inds])
        self.industry_idx = rng.choice(len(inds), size=n, p=iw / iw.sum())
        vert_u = rng.random(n)

        self.created = rng.integers(_days(dt.date(2012, 1, 1)),
                                    _days(parse_month(self.burn[0])), size=n)

        # names: a share are near-duplicates of another company's name
        rn = self.rng_names
        base = [names.base_name(rn, inds[i]) for i in self.industry_idx]
        dup = np.flatnonzero(rn.random(n) < 0.05)
        for i in dup:
            j = int(rn.integers(0, n))
            if j != i:
                base[i] = (names.near_duplicate(rn, base[j], inds[self.industry_idx[j]])
                           if rn.random() < 0.8 else base[j])
        legal_u = rn.random(n)
        hyph_u = rn.random(n)

        acc, dom, city, state, postal, country, vertical = ([] for _ in range(7))
        taken: set[str] = set()
        next_free: dict[str, int] = {}
        for i in range(n):
            ctry = geo.COUNTRIES[self.country_idx[i]]
            cty = ctry.cities[int(city_u[i] * len(ctry.cities))]
            legal = ctry.legal[int(legal_u[i] * len(ctry.legal))]
            acc.append(f"{base[i]} {legal}".strip() if legal else base[i])
            city.append(cty.name)
            state.append(cty.state)
            postal.append(geo.postal_code(ctry, cty, postal_r[i]))
            country.append(ctry.code)
            verts = names.INDUSTRIES[inds[self.industry_idx[i]]][1]
            vertical.append(verts[int(vert_u[i] * len(verts))])
            s = names.slugify(base[i].replace("&", "and"))
            if hyph_u[i] < 0.55:
                s = s.replace("-", "")
            cand = f"{s}.{ctry.tld}"
            if cand in taken:
                cs = names.slugify(cty.name).replace("-", "")
                cand = f"{s}-{cs}.{ctry.tld}"
                if cand in taken:
                    # common names: number them, remembering the next free number per stem
                    stem = f"{s}{cs}"
                    k = next_free.get(stem, 2)
                    while f"{stem}{k}.{ctry.tld}" in taken:
                        k += 1
                    next_free[stem] = k + 1
                    cand = f"{stem}{k}.{ctry.tld}"
            taken.add(cand)
            dom.append(cand)
        self.customer_ids = np.array([f"C{i + 1:08d}" for i in range(n)], dtype=object)
        self.account_name = acc
        self.domain = dom
        self.city, self.state, self.postal, self.country = city, state, postal, country
        self.industry = [inds[i] for i in self.industry_idx]
        self.vertical = vertical
        # DUNS: a permutation of 9-digit numbers via an affine map (unique, deterministic)
        self.duns = np.array([f"{(i * 7_368_787 + 1_299_709) % 899_999_999 + 100_000_000:09d}"
                              for i in range(n)], dtype=object)

        # hidden traits
        rl = self.rng_latent
        self.growth = rl.normal(0, 1, n)
        self.adoption = np.clip(rl.beta(5, 2, n) * 1.15, 0.05, 1.3)
        self.usage = np.clip(rl.beta(4, 2, n) * 1.2, 0.05, 1.35)
        self.taste = rl.normal(0, 0.55, (n, P))
        size = np.log(emp)
        self.size_z = (size - size.mean()) / (size.std() + 1e-9)
        p_crm = _sigmoid(-2.2 + 0.6 * self.size_z)
        self.tech_crm = rl.random(n) < p_crm
        self.tech_cloud = rl.random(n) < _sigmoid(-2.4 + 0.5 * self.size_z
                                                   + 1.2 * (self.industry_idx == inds.index("Technology")))
        self.tech_gws = rl.random(n) < 0.2
        self.onprem_server = rl.random(n) < _sigmoid(-1.2 + 0.5 * self.size_z)
        self.onprem_sql = self.onprem_server & (rl.random(n) < 0.5)
        self.legacy_erp = rl.random(n) < np.where(emp > 300, 0.1, 0.28)
        self.onprem_exchange = np.zeros(n, bool)  # set with the initial install base
        self.owa_visible = rl.random(n) < 0.6
        self.regulated = np.isin(self.industry_idx, [inds.index(r) for r in REGULATED])
        aff = np.zeros((len(inds), P))
        for ind, d in INDUSTRY_AFFINITY.items():
            for p, v in d.items():
                aff[inds.index(ind), PI[p]] = v
        self.affinity = aff[self.industry_idx]
        self.is_vs = emp < 25
        self.is_um = (emp > 300) | self.force_azure

    # ---------------------------------------------------------------- fit
    def fit_logit(self) -> np.ndarray:
        """Latent fit per company and product from what a vendor could know, plus taste."""
        o = self.owns
        z = self.size_z
        usage_m365 = self.m365_usage_z()
        fit = self.affinity + self.taste
        fit[:, PI["azure"]] += (0.35 * z + 0.3 * self.is_um - 0.35 * self.tech_cloud
                                + 0.6 * self.onprem_server + 0.4 * o[:, PI["m365"]]
                                + 0.2 * self.has_agreement)
        fit[:, PI["m365"]] += (0.25 * z - 0.7 * self.tech_gws + 0.8 * self.onprem_exchange
                               + 0.3 * self.has_agreement)
        fit[:, PI["copilot"]] += (0.3 * z + 0.6 * usage_m365 + 0.3 * o[:, PI["security_e5"]]
                                  + 0.2 * o[:, PI["azure"]])
        fit[:, PI["d365_bc"]] += (0.1 * z - 1.0 * self.is_um + 1.2 * self.legacy_erp
                                  + 0.3 * o[:, PI["m365"]])
        fit[:, PI["d365_sales_pro"]] += (0.4 * z + 0.7 * self.tech_crm + 0.2 * o[:, PI["m365"]]
                                         - 0.4 * self.is_vs)
        fit[:, PI["power_apps"]] += (0.3 * z + 0.5 * o[:, PI["m365"]] + 0.4 * self.tech_crm
                                     - 0.3 * self.is_vs)
        fit[:, PI["surface"]] += (0.3 * z + 0.4 * o[:, PI["m365"]] + 0.3 * self.surface_recent)
        fit[:, PI["security_e5"]] += (0.4 * z + 0.5 * self.regulated + 0.3 * usage_m365
                                      + 0.2 * self.has_agreement)
        fit[:, PI["renewal"]] += (0.9 * self.usage_z_all() + 0.2 * z
                                  + 0.15 * o[:, :PI["renewal"]].sum(axis=1))
        return fit

    def m365_usage_z(self) -> np.ndarray:
        """Standardised usage habit, visible only for M365 owners (0 otherwise)."""
        u = (self.usage - 0.8) / 0.2
        return np.where(self.owns[:, PI["m365"]], u, 0.0)

    def usage_z_all(self) -> np.ndarray:
        return (self.usage * self.adoption - 0.65) / 0.2

    # ---------------------------------------------------------------- install base
    def initial_install_base(self, day0: int) -> None:
        """Who owns what on the first day of history, drawn from fit."""
        n, rng = self.n, self.rng_sim
        self.owns = np.zeros((n, P), bool)
        self.has_agreement = np.zeros(n, bool)
        self.surface_recent = np.zeros(n, bool)
        self.subs = _Subscriptions()
        order = ["m365", "azure", "surface", "d365_bc", "d365_sales_pro", "power_apps",
                 "copilot", "security_e5"]
        for p in order:
            base = self.fit_logit()[:, PI[p]] * 0.8
            pool = np.ones(n, bool)
            if p in ("copilot", "security_e5"):
                pool = self.owns[:, PI["m365"]]
            if p == "m365":
                base = base - 1.6 * self.tech_gws
            bias = _solve_bias(base[pool], INITIAL_SHARE[p])
            own = pool & (rng.random(n) < _sigmoid(bias + base))
            if p == "azure":
                own |= self.force_azure
            if p == "m365":
                self.onprem_exchange = ~own & ~self.tech_gws & (rng.random(n) < 0.3)
                self.onprem_exchange_initial = self.onprem_exchange.copy()
            self.owns[:, PI[p]] = own
            idx = np.flatnonzero(own)
            start = day0 - rng.integers(30, 48 * 30, idx.size)
            if p == "surface":
                start = day0 - rng.integers(30, 34 * 30, idx.size)
                self.surface_recent[idx] = True
            self._new_subscriptions(p, idx, start, trial=False)
        # every initial subscription's term end lies in the future of day0
        alive = self.subs.end <= day0
        while alive.any():
            term = np.where(self.subs.prod == PI["surface"], 36, 12)
            self.subs.end[alive] = _add_months_days(self.subs.end[alive], term[alive])
            alive = self.subs.end <= day0
        # agreements: more likely for larger companies and M365/Azure owners
        p_agr = _sigmoid(-0.9 + 0.7 * self.size_z + 0.6 * self.owns[:, PI["m365"]]
                         + 0.5 * self.owns[:, PI["azure"]])
        has = rng.random(n) < p_agr
        idx = np.flatnonzero(has)
        ea = self.is_um[idx] & (rng.random(idx.size) < 0.7)
        term = np.where(ea, 36, 12)
        end = day0 + (rng.random(idx.size) * term * 30.4).astype(np.int64) + 1
        start = _add_months_days(end, -term) + 1
        self.agr = {
            "cust": idx, "start": start, "end": end, "term": term,
            "program": np.where(ea, 0, rng.choice([1, 2, 3], idx.size, p=[0.5, 0.3, 0.2])),
            "renewed": np.zeros(idx.size, bool), "division": rng.integers(0, 4, idx.size),
        }
        self.has_agreement[idx] = True

    def _seats(self, p: str, idx: np.ndarray) -> np.ndarray:
        rng = self.rng_sim
        emp = self.emp[idx]
        cover = {"m365": 0.85, "copilot": 0.2, "d365_bc": 0.12, "d365_sales_pro": 0.15,
                 "power_apps": 0.2, "surface": 0.3, "security_e5": 0.8, "azure": 1.0}[p]
        if p == "azure":
            return np.ones(idx.size, np.int64)
        seats = np.round(emp * cover * rng.lognormal(0, 0.35, idx.size))
        return np.maximum(seats, 1).astype(np.int64)

    def _new_subscriptions(self, p: str, idx: np.ndarray, start: np.ndarray, trial: bool) -> None:
        """Append subscriptions of product ``p`` for companies ``idx`` starting on ``start``."""
        rng = self.rng_sim
        k = idx.size
        if k == 0:
            return
        seats = self._seats(p, idx) if not trial else np.minimum(self._seats(p, idx), 25)
        sku = SKU_FIRST[p] + rng.integers(0, len(SKUS[p]), k)
        price = np.full(k, PRICE[p]) * seats
        if p == "azure":
            price = self.acr_scale[idx] * rng.lognormal(0, 0.15, k)
        if trial:
            price = np.zeros(k)
            end = start + 30
            auto = np.zeros(k, bool)
            status = np.full(k, ST["trial"])
        else:
            term = 36 if p == "surface" else 12
            end = _add_months_days(start, term)
            auto = (rng.random(k) < 0.55) & (p != "surface")
            status = np.full(k, ST["active"])
        assigned = np.round(seats * np.minimum(self.adoption[idx], 1.3) * rng.uniform(0.6, 1.0, k))
        if p in ("azure", "surface"):
            assigned = seats.astype(float)
        active = np.round(assigned * self.usage[idx] * rng.uniform(0.8, 1.05, k))
        self.subs.add(cust=idx, prod=np.full(k, PI[p]), sku=sku, partner=self.primary[idx],
                      sold=seats, assigned=assigned, active=active, start=start, end=end,
                      auto=auto, status=status, price=price)

    # ---------------------------------------------------------------- partners
    def make_partners(self) -> None:
        n, rng = self.n, self.rng_firm
        k = max(3, n // 200)
        self.partner_ids = np.array([f"{4_000_000 + i * 7919 % 999_983:07d}" for i in range(k)],
                                    dtype=object)
        self.partner_names = []
        seen: set[str] = set()
        cities = [c.name for ctry in geo.COUNTRIES for c in ctry.cities]
        for i in range(k):
            nm = names.partner_name(rng)
            if nm in seen:  # few name shapes: qualify by a home city, then number
                nm = f"{nm} {cities[i % len(cities)]}"
                j = 2
                while nm in seen:
                    nm = f"{nm.rsplit(' #', 1)[0]} #{j}"
                    j += 1
            seen.add(nm)
            self.partner_names.append(nm)
        self.partner_country = [geo.COUNTRIES[int(c)].code
                                for c in rng.choice(len(geo.COUNTRIES), k)]
        # heavy-tailed book sizes; customers prefer partners of their own country
        w = rng.pareto(1.3, k) + 0.2
        self.primary = rng.choice(k, size=n, p=w / w.sum()).astype(np.int32)
        shared = rng.random(n) < 0.08
        second = rng.choice(k, size=n, p=w / w.sum()).astype(np.int32)
        self.second = np.where(shared & (second != self.primary), second, -1).astype(np.int32)
        self.partner_since = self.created + rng.integers(0, 400, n)

    # ---------------------------------------------------------------- simulation
    def events(self, month_i: int) -> np.ndarray:
        """Draw this month's events: a boolean (n, T) matrix."""
        rng = self.rng_sim
        n = self.n
        g = self.growth
        o = self.owns
        time_trend = 1.0 + max(month_i, 0) / 12.0
        rate = np.zeros((n, T))
        rate[:, TI["funding_round"]] = 0.004 * np.exp(0.6 * g) * np.where(self.is_vs, 0.6, 1.0)
        rate[:, TI["new_office"]] = 0.005 * np.exp(0.5 * g) * np.where(self.is_vs, 0.5, 1.0)
        rate[:, TI["hiring_spree"]] = 0.006 * np.exp(0.7 * g) * np.where(self.is_vs, 0.4, 1.0)
        rate[:, TI["hiring_cloud_engineers"]] = 0.004 * (1 + self.tech_cloud + self.onprem_server) \
            * np.where(self.is_vs, 0.3, 1.0)
        rate[:, TI["exchange_end_of_support"]] = 0.025 * (self.onprem_exchange & ~o[:, PI["m365"]])
        rate[:, TI["windows_server_end_of_support"]] = 0.014 * (self.onprem_server & ~o[:, PI["azure"]])
        rate[:, TI["sql_server_end_of_support"]] = 0.010 * (self.onprem_sql & ~o[:, PI["azure"]])
        rate[:, TI["legacy_erp_end_of_support"]] = 0.014 * (self.legacy_erp & ~o[:, PI["d365_bc"]])
        rate[:, TI["competitor_crm_churn"]] = 0.014 * self.tech_crm * ~o[:, PI["d365_sales_pro"]]
        rate[:, TI["competitor_cloud_churn"]] = 0.012 * self.tech_cloud
        rate[:, TI["competitor_productivity_churn"]] = 0.014 * self.tech_gws * ~o[:, PI["m365"]]
        rate[:, TI["leadership_change"]] = 0.004
        rate[:, TI["security_incident"]] = 0.003 * np.where(self.regulated, 1.6, 1.0)
        rate[:, TI["ai_adoption"]] = 0.004 * time_trend * np.where(self.is_vs, 0.6, 1.0)
        rate[:, TI["lowcode_initiative"]] = 0.004 * np.where(self.is_vs, 0.5, 1.0)
        rate[:, TI["device_refresh"]] = 0.005
        return rng.random((n, T)) < rate

    def eligible(self, day0: int) -> np.ndarray:
        """Who can buy what this month."""
        o = self.owns
        e = ~o.copy()
        e[:, PI["copilot"]] &= o[:, PI["m365"]]
        e[:, PI["security_e5"]] &= o[:, PI["m365"]]
        e[:, PI["surface"]] = ~self.surface_recent
        e[:, PI["renewal"]] = False
        a = self.agr
        due = (~a["renewed"]) & (a["end"] >= day0) & (a["end"] < day0 + RENEWAL_WINDOW_DAYS)
        e[a["cust"][due], PI["renewal"]] = True
        return e

    def renewal_holders(self, day0: int) -> np.ndarray:
        a = self.agr
        live = (~a["renewed"]) & (a["end"] >= day0)
        out = np.zeros(self.n, bool)
        out[a["cust"][live]] = True
        return out

    def run(self, lake: Lake, progress: Callable[[str], None] | None = None,
            observer: Callable[[str, MarketGenerator], None] | None = None) -> MarketSummary:
        """Generate everything and write it to ``lake``.

        ``observer(month, self)`` is called at the start of each month of history, before
        anything is drawn, with the hidden state (``intent``, ``owns``) as of the cut-off;
        tests use it to prove that intent does not leak into exported tables.
        """
        self.make_companies()
        self.make_partners()
        day_first = _month_days(self.months[0])[0]
        self.initial_install_base(day_first)
        n = self.n
        self.intent = np.zeros((n, P))
        impact = np.zeros((T, P))
        for t in EVENT_TOPICS:
            areas = C.TOPIC_BY_ID[t].product_areas
            for j, p in enumerate(areas):
                impact[TI[t], PI[p]] = INTENT_PRIMARY if j == 0 else INTENT_SECONDARY
        self.impact = impact
        self.traces: list[dict[str, np.ndarray]] = []
        self.opps: list[dict[str, np.ndarray]] = []
        summary = MarketSummary(companies=n, months=list(self.months))

        # burn-in: intent and pages build up before the first month of history
        for bi, m in enumerate(self.burn):
            ev = self.events(bi - len(self.burn))
            self._web_month(m, ev)
            self._update_intent(ev)

        self.fit_cache = fit0 = self.fit_logit()
        elig0 = self.eligible(day_first)
        self.bias = np.zeros(P)
        for p in SUB_PRODUCTS:
            j = PI[p]
            self.bias[j] = _solve_bias(fit0[elig0[:, j], j] + self.intent[elig0[:, j], j],
                                       TARGET_RATE[p])
        # renewal: most customers renew over the 3 months before their agreement ends
        jr = PI["renewal"]
        pool = elig0[:, jr] if elig0[:, jr].any() else np.ones(n, bool)
        self.bias[jr] = _solve_bias(fit0[pool, jr], 0.32)

        purchases = {p: 0 for p in PRODUCTS}
        eligible_n = {p: 0 for p in PRODUCTS}
        self._age_subscriptions(day_first)
        # segmentation happens once, at the start of history (vendors segment yearly): the
        # companies table shows ACR and subsegment as of then, so it never leaks later buys
        s0 = self.subs
        self.acr_segmentation = np.zeros(n)
        az0 = (s0.prod == PI["azure"]) & (s0.ended < 0)
        np.add.at(self.acr_segmentation, s0.cust[az0], s0.price[az0])
        for mi, m in enumerate(self.months):
            d0, d1 = _month_days(m)
            if progress:
                progress(m)
            if observer:
                observer(m, self)
            fit = self.fit_logit()
            elig = self.eligible(d0)
            latent = _sigmoid(self.bias + fit + self.intent)
            prob = np.where(elig, latent, 0.0)
            # unique (customer, product) by construction: skip the costly key check
            lake.write(C.PURCHASE_PROBABILITY, self._truth_table(prob, elig, latent), month=m,
                       check_key=False)
            bought = self.rng_sim.random((n, P)) < prob
            for p in PRODUCTS:
                j = PI[p]
                purchases[p] += int(bought[:, j].sum())
                eligible_n[p] += int(elig[:, j].sum()) if p != "renewal" else int(
                    self.renewal_holders(d0).sum())
            self._apply_purchases(bought, prob, elig, d0, d1)
            if mi == len(self.months) - 1:
                self._open_pipeline(prob, d0, d1)
            # the book at the close of the month: renewals, expiries and new purchases
            self._age_subscriptions(d1)
            lake.write(C.SUBSCRIPTIONS, self._subscription_snapshot(d1), month=m)
            ev = self.events(mi)
            self._web_month(m, ev)
            self._update_intent(ev)
            self.intent[bought] *= 0.2
        summary.purchase_rate = {p: purchases[p] / max(eligible_n[p], 1) for p in PRODUCTS}
        export_day = _month_days(self.months[-1])[1] - 1
        self._write_static(lake, export_day, summary)
        return summary

    def _update_intent(self, ev: np.ndarray) -> None:
        drift = self.rng_latent.normal(0, 0.12, self.intent.shape)
        self.intent = INTENT_DECAY * self.intent + ev.astype(float) @ self.impact + drift
        self.intent[:, PI["renewal"]] = 0.0

    def _apply_purchases(self, bought: np.ndarray, prob: np.ndarray, elig: np.ndarray,
                         d0: int, d1: int) -> None:
        rng = self.rng_sim
        n = self.n
        for p in PRODUCTS:
            j = PI[p]
            idx = np.flatnonzero(bought[:, j])
            day = rng.integers(d0, d1, idx.size)
            if p == "renewal":
                self._renew_agreements(idx, day)
                amount = self._due_revenue(idx)
                with_opp = np.ones(idx.size, bool)
            else:
                self._new_subscriptions(p, idx, day, trial=False)
                amount = self._deal_size(p, idx)
                if p == "surface":
                    self.surface_recent[idx] = True
                else:
                    self.owns[idx, j] = True
                if p in ("m365", "azure"):
                    new_agr = idx[~self.has_agreement[idx] & (rng.random(idx.size) < 0.3)]
                    self._add_agreements(new_agr, rng.integers(d0, d1, new_agr.size), term=12)
                with_opp = rng.random(idx.size) < 0.85
                if p == "m365":
                    self.onprem_exchange[idx] = False
            self._add_opps(idx[with_opp], j, day[with_opp], "won", amount[with_opp], d0)
            # lost opportunities: sales engaged but no purchase
            lost = np.flatnonzero(elig[:, j] & ~bought[:, j]
                                  & (rng.random(n) < 0.6 * prob[:, j]))
            lday = rng.integers(d0, d1, lost.size)
            self._add_opps(lost, j, lday, "lost",
                           self._due_revenue(lost) if p == "renewal" else self._deal_size(p, lost),
                           d0)
            # trials follow fit only, never intent (no intent leaks into exported tables)
            if p in ("m365", "copilot", "d365_bc", "d365_sales_pro", "power_apps", "security_e5"):
                ptrial = 0.25 * _sigmoid(self.bias[j] + self.fit_cache[:, j]) * elig[:, j]
                tr = np.flatnonzero(rng.random(n) < ptrial)
                tr = tr[~self._has_live_trial(tr, j)]
                self._new_subscriptions(p, tr, rng.integers(d0, d1, tr.size), trial=True)

    def _has_live_trial(self, idx: np.ndarray, j: int) -> np.ndarray:
        s = self.subs
        live = (s.prod == j) & (s.status == ST["trial"])
        have = np.zeros(self.n, bool)
        have[s.cust[live]] = True
        return have[idx]

    def _deal_size(self, p: str, idx: np.ndarray) -> np.ndarray:
        """Annual deal value in USD for a purchase of ``p`` by companies ``idx``."""
        if p == "azure":
            return np.round(self.acr_scale[idx] * 12, 2)
        seats = np.maximum(np.round(self.emp[idx] * {"m365": 0.85, "copilot": 0.2,
                                                       "d365_bc": 0.12, "d365_sales_pro": 0.15,
                                                       "power_apps": 0.2, "surface": 0.3,
                                                       "security_e5": 0.8}[p]), 1)
        if p == "surface":
            return seats * 1300.0
        return np.round(seats * PRICE[p] * 12, 2)

    def _due_revenue(self, idx: np.ndarray) -> np.ndarray:
        return np.round(np.maximum(self.emp[idx], 1) * 22.0 * 12 * 0.9, 2)

    def _add_opps(self, idx: np.ndarray, j: int, close_day: np.ndarray, outcome: str,
                  amount: np.ndarray, d0: int) -> None:
        """Opportunities opened and closed within the month the buying decision is drawn.

        Opening them earlier would reveal, at an earlier cut-off, a purchase drawn after it:
        an open opportunity would then be information from the future, and the oracle (the
        true probability at the cut-off) would no longer be a ceiling.
        """
        if idx.size == 0:
            return
        span = close_day - d0
        created = d0 + np.floor(self.rng_sim.random(idx.size) * (span + 1)).astype(np.int64)
        self.opps.append({
            "cust": idx, "prod": np.full(idx.size, j), "created": created,
            "closed": close_day, "outcome": np.full(idx.size, outcome),
            "amount": np.asarray(amount, float), "partner": self.primary[idx],
        })

    def _open_pipeline(self, prob: np.ndarray, d0: int, d1: int) -> None:
        """Opportunities still open at export, created in the last month of history."""
        rng = self.rng_sim
        for p in PRODUCTS:
            j = PI[p]
            idx = np.flatnonzero(rng.random(self.n) < 1.2 * prob[:, j])
            created = rng.integers(d0, d1, idx.size)
            amt = self._due_revenue(idx) if p == "renewal" else self._deal_size(p, idx)
            self.opps.append({
                "cust": idx, "prod": np.full(idx.size, j), "created": created,
                "closed": np.full(idx.size, -1), "outcome": np.full(idx.size, "open"),
                "amount": np.asarray(amt, float), "partner": self.primary[idx],
            })

    def _add_agreements(self, idx: np.ndarray, start: np.ndarray, term: int) -> None:
        if idx.size == 0:
            return
        a = self.agr
        end = _add_months_days(start, term) - 1
        add = {"cust": idx, "start": start, "end": end, "term": np.full(idx.size, term),
               "program": np.full(idx.size, 1), "renewed": np.zeros(idx.size, bool),
               "division": self.rng_sim.integers(0, 4, idx.size)}
        for k in a:
            a[k] = np.concatenate([a[k], add[k].astype(a[k].dtype)])
        self.has_agreement[idx] = True

    def _renew_agreements(self, idx: np.ndarray, day: np.ndarray) -> None:
        a = self.agr
        if idx.size == 0:
            return
        due = np.flatnonzero(~a["renewed"])
        # the customer's open agreement that ends soonest
        order = due[np.argsort(a["end"][due], kind="stable")]
        first = {}
        for k in order[::-1]:
            first[int(a["cust"][k])] = k
        rows = np.array([first[int(c)] for c in idx if int(c) in first], dtype=np.int64)
        if rows.size == 0:
            return
        a["renewed"][rows] = True
        start = a["end"][rows] + 1
        term = a["term"][rows]
        add = {"cust": a["cust"][rows], "start": start, "end": _add_months_days(start, term) - 1,
               "term": term, "program": a["program"][rows],
               "renewed": np.zeros(rows.size, bool), "division": a["division"][rows]}
        for k in a:
            a[k] = np.concatenate([a[k], add[k].astype(a[k].dtype)])

    def _age_subscriptions(self, d0: int) -> None:
        """Move every subscription to its state on day ``d0`` (start of a month)."""
        s = self.subs
        rng = self.rng_sim
        k = len(s)
        alive = s.ended < 0
        # trials end after 30 days
        tr_end = alive & (s.status == ST["trial"]) & (s.end <= d0)
        s.status[tr_end] = ST["expired"]
        s.ended[tr_end] = s.end[tr_end]
        # terms that ended: renew automatically, renew by choice, or fall into grace (a trial
        # that just expired is not a term: it must not renew or show as a paid lapse)
        alive = s.ended < 0
        due = alive & (s.status != ST["trial"]) & (s.status != ST["grace"]) & (s.end <= d0)
        term = np.where(s.prod == PI["surface"], 36, 12)
        cu = s.cust
        renew_p = np.where(s.auto, 0.97, _sigmoid(1.2 + 2.0 * (self.usage[cu] * self.adoption[cu] - 0.6)))
        renew_p = np.where(s.prod == PI["surface"], 0.0, renew_p)
        renew = due & (rng.random(k) < renew_p)
        s.end[renew] = _add_months_days(s.end[renew], term[renew])
        lapse = due & ~renew
        s.status[lapse] = ST["grace"]
        # grace lasts a month, then the subscription expires
        gone = alive & (s.status == ST["grace"]) & (s.end + 30 <= d0)
        s.status[gone] = ST["expired"]
        s.ended[gone] = s.end[gone] + 30
        # suspensions (unpaid), lifted or expired later
        act = (s.status == ST["active"]) & (s.ended < 0)
        sus = act & (rng.random(k) < 0.004)
        s.status[sus] = ST["suspended"]
        s.suspend_until[sus] = d0 + rng.integers(20, 70, k)[sus]
        back = (s.status == ST["suspended"]) & (s.suspend_until <= d0)
        lost = back & (rng.random(k) < 0.3)
        s.status[back & ~lost] = ST["active"]
        s.status[lost] = ST["expired"]
        s.ended[lost] = d0
        # adoption moves: seats added by growing customers; assignment and usage drift
        live = s.ended < 0
        grow = live & (s.prod != PI["azure"]) & (s.prod != PI["surface"]) & (
            rng.random(k) < 0.03 * np.exp(0.5 * self.growth[cu]))
        s.sold[grow] += np.maximum(1, np.round(s.sold[grow] * rng.uniform(0.05, 0.3, grow.sum()))).astype(np.int64)
        seat = live & (s.prod != PI["azure"]) & (s.prod != PI["surface"])
        target = s.sold * np.minimum(self.adoption[cu], 1.3) * rng.uniform(0.85, 1.08, k)
        s.assigned[seat] = np.round(0.5 * s.assigned[seat] + 0.5 * target[seat]).astype(np.int64)
        act_target = s.assigned * self.usage[cu] * rng.uniform(0.8, 1.08, k)
        s.active[live] = np.round(act_target[live]).astype(np.int64)
        s.active[~live] = 0
        s.active[s.status == ST["suspended"]] = 0
        azure = live & (s.prod == PI["azure"])
        s.price[azure] = self.acr_scale[cu[azure]] * rng.lognormal(0, 0.12, azure.sum())
        seatp = live & ~azure
        prices = np.array([PRICE[p] for p in SUB_PRODUCTS])[s.prod[seatp]]
        s.price[seatp] = np.where(s.status[seatp] == ST["trial"], 0.0, prices * s.sold[seatp])
        # ownership follows the live, non-trial book
        own = np.zeros((self.n, P), bool)
        m = live & (s.status != ST["trial"])
        own[s.cust[m], s.prod[m]] = True
        own[:, PI["surface"]] = False
        self.owns[:, :PI["renewal"]] = own[:, :PI["renewal"]]
        self.surface_recent = np.zeros(self.n, bool)
        recent = (s.prod == PI["surface"]) & (s.start > d0 - 36 * 30)
        self.surface_recent[s.cust[recent]] = True
        # agreements that ended without renewal
        a = self.agr
        self.has_agreement = np.zeros(self.n, bool)
        self.has_agreement[a["cust"][a["end"] >= d0]] = True
        # forget subscriptions expired for more than 90 days
        s.keep((s.ended < 0) | (s.ended > d0 - 90))
        self.fit_cache = self.fit_logit()

    # ---------------------------------------------------------------- tables
    def _subscription_snapshot(self, d0: int) -> pa.Table:
        s = self.subs
        vis = s.start < d0
        idx = np.flatnonzero(vis)
        sub_num = self._sub_ids(idx)
        cust = self.customer_ids[s.cust[idx]]
        return pa.table({
            "subscription_id": pa.array(sub_num, pa.string()),
            "customer_id": pa.array(cust, pa.string()),
            "global_id": pa.array(self.partner_ids[s.partner[idx]], pa.string()),
            "product": pa.DictionaryArray.from_arrays(
                pa.array(s.prod[idx].astype(np.int32)), pa.array(SUB_PRODUCTS)),
            "sku": pa.DictionaryArray.from_arrays(
                pa.array(s.sku[idx].astype(np.int32)), pa.array(SKU_LIST)),
            "seats_sold": pa.array(s.sold[idx], pa.int64()),
            "seats_assigned": pa.array(s.assigned[idx], pa.int64()),
            "active_users_28d": pa.array(s.active[idx], pa.int64()),
            "start_date": pa.array(s.start[idx].astype(np.int32), pa.int32()).cast(pa.date32()),
            "end_date": pa.array(s.end[idx].astype(np.int32), pa.int32()).cast(pa.date32()),
            "auto_renew": pa.array(s.auto[idx]),
            "status": pa.DictionaryArray.from_arrays(
                pa.array(s.status[idx].astype(np.int32)), pa.array(STATUS)),
            "monthly_revenue_usd": pa.array(np.round(s.price[idx], 2)),
        })

    def _sub_ids(self, idx: np.ndarray) -> np.ndarray:
        # a sequence number given at creation: stable over snapshots, never reused
        return np.array([f"SUB-{k:010d}" for k in self.subs.num[idx].tolist()], dtype=object)

    def _truth_table(self, prob: np.ndarray, elig: np.ndarray, latent: np.ndarray) -> pa.Table:
        n = self.n
        cust = np.repeat(np.arange(n, dtype=np.int32), P)
        prod = np.tile(np.arange(P, dtype=np.int32), n)
        return pa.table({
            "customer_id": pa.DictionaryArray.from_arrays(pa.array(cust), self._cust_dict()),
            "product": pa.DictionaryArray.from_arrays(pa.array(prod), pa.array(PRODUCTS)),
            "probability": pa.array(prob.reshape(-1).astype(np.float32)),
            "eligible": pa.array(elig.reshape(-1)),
            "propensity": pa.array(latent.reshape(-1).astype(np.float32)),
        })

    def _cust_dict(self) -> pa.Array:
        if not hasattr(self, "_cust_arrow"):
            self._cust_arrow = pa.array(self.customer_ids, pa.string())
        return self._cust_arrow

    def _web_month(self, month: str, ev: np.ndarray) -> None:
        """Record the pages that this month's events and noise put on the web."""
        rng = self.rng_web
        d0, d1 = _month_days(month)
        rows_c, rows_t, rows_k, rows_noise, rows_j = [], [], [], [], []
        ci, ti = np.nonzero(ev)
        for kind_prob in range(3):
            for t in EVENT_TOPICS:
                pages = TOPIC_PAGES[t]
                if kind_prob >= len(pages):
                    continue
                kind, pr = pages[kind_prob]
                sel = ci[(ti == TI[t]) & (rng.random(ci.size) < pr)]
                reps = np.ones(sel.size, np.int64)
                if kind == "job":
                    reps = rng.integers(1, 4 if t != "hiring_spree" else 5, sel.size)
                for r in range(int(reps.max()) if reps.size else 0):
                    c = sel[reps > r]
                    rows_c.append(c)
                    rows_t.append(np.full(c.size, TI[t]))
                    rows_k.append(np.full(c.size, PKI[kind]))
                    rows_noise.append(np.zeros(c.size, bool))
                    rows_j.append(np.full(c.size, r))
        # noise mentions: a topic on a plausible page with no intent behind it
        nn = rng.poisson(NOISE_RATE, self.n)
        nc = np.repeat(np.arange(self.n), nn)
        nt = rng.integers(0, T, nc.size)
        pick = rng.random(nc.size)
        nk = np.empty(nc.size, np.int64)
        for t in EVENT_TOPICS:
            m = nt == TI[t]
            kinds = [PKI[k] for k, _ in TOPIC_PAGES[t]]
            nk[m] = np.asarray(kinds)[(pick[m] * len(kinds)).astype(int)]
        rows_c.append(nc)
        rows_t.append(nt)
        rows_k.append(nk)
        rows_noise.append(np.ones(nc.size, bool))
        rows_j.append(np.arange(nc.size) % 7 + 10)
        c = np.concatenate(rows_c) if rows_c else np.zeros(0, np.int64)
        if c.size == 0:
            return
        day = rng.integers(d0, d1, c.size)
        self.traces.append({
            "cust": c, "topic": np.concatenate(rows_t), "kind": np.concatenate(rows_k),
            "noise": np.concatenate(rows_noise), "rep": np.concatenate(rows_j), "day": day,
            "variant": rng.integers(0, 1000, c.size), "month": np.full(c.size, len(self.traces)),
        })

    def _web_traces_table(self) -> pa.Table:
        t = {k: np.concatenate([x[k] for x in self.traces]) for k in self.traces[0]}
        spec = self.spec
        host_of_kind = {"press": spec.press_host, "forum": spec.forum_host,
                        "social": spec.social_host}
        urls_out = []
        days = t["day"].astype("datetime64[D]").astype(object)
        for c, top, kind, rep, mo, day in zip(t["cust"].tolist(), t["topic"].tolist(),
                                              t["kind"].tolist(), t["rep"].tolist(),
                                              t["month"].tolist(), days, strict=True):
            k = PAGE_KINDS[kind]
            host = host_of_kind.get(k) or self.domain[c]
            urls_out.append(urls.page_url(k, host, day, urls.slug(spec.seed, c, top, mo, k, rep)))
        event_src = np.array([urls.SOURCE_OF_KIND[k] for k in PAGE_KINDS])[t["kind"]]
        topics = np.array(EVENT_TOPICS, dtype=object)[t["topic"]]
        # technology hints on home pages (static over the history)
        tech = [("tech_competitor_crm", self.tech_crm), ("tech_competitor_cloud", self.tech_cloud),
                ("tech_google_workspace", self.tech_gws),
                ("tech_onprem_exchange", self.onprem_exchange_initial & self.owa_visible)]
        tc, tt = [], []
        for topic, flag in tech:
            idx = np.flatnonzero(flag)
            tc.append(idx)
            tt.append(np.full(idx.size, topic, dtype=object))
        tc_a = np.concatenate(tc)
        tech_day = _days(parse_month(self.burn[0]))
        table = pa.table({
            "customer_id": pa.array(np.concatenate([self.customer_ids[t["cust"]],
                                                    self.customer_ids[tc_a]]), pa.string()),
            "topic": pa.array(np.concatenate([topics, np.concatenate(tt)]), pa.string()),
            "url": pa.array(urls_out + [urls.home_url(self.domain[c]) for c in tc_a.tolist()],
                            pa.string()),
            "published_at": pa.array(np.concatenate([t["day"], np.full(tc_a.size, tech_day)])
                                     .astype(np.int32), pa.int32()).cast(pa.date32()),
            "is_noise": pa.array(np.concatenate([t["noise"], np.zeros(tc_a.size, bool)])),
            "source": pa.array(np.concatenate([event_src, np.full(tc_a.size, "site")]), pa.string()),
            "kind": pa.array(np.concatenate([np.where(t["noise"], "noise", "event"),
                                             np.full(tc_a.size, "technology")]), pa.string()),
            "page_kind": pa.array(np.concatenate([np.array(PAGE_KINDS)[t["kind"]],
                                                  np.full(tc_a.size, "home")]), pa.string()),
            "variant": pa.array(np.concatenate([t["variant"],
                                                np.arange(tc_a.size) % 1000]).astype(np.int64)),
        })
        # the same company, topic and page can be drawn twice (e.g. noise beside an event
        # on one day): keep the first so the key stays unique
        keyed = table.append_column("_i", pa.array(np.arange(table.num_rows)))
        first = keyed.group_by(["customer_id", "topic", "url"]).aggregate([("_i", "min")])
        keep = np.sort(first.column("_i_min").to_numpy())
        return table.take(pa.array(keep)).sort_by([("published_at", "ascending"),
                                                   ("url", "ascending"),
                                                   ("topic", "ascending")])

    def _write_static(self, lake: Lake, export_day: int, summary: MarketSummary) -> None:
        n = self.n
        acr = self.acr_segmentation
        sub = np.where((self.emp > 300) | (acr > 1000), "Upper medium",
                       np.where(self.emp >= 25, "Medium", "Very small"))
        bands = np.array(["1-9", "10-24", "25-49", "50-99", "100-300", "301-999", "1000+"])
        band = bands[np.searchsorted([9, 24, 49, 99, 300, 999], self.emp, side="left")]
        companies = pa.table({
            "customer_id": pa.array(self.customer_ids, pa.string()),
            "account_name": pa.array(self.account_name, pa.string()),
            "domain": pa.array(self.domain, pa.string()),
            "employees": pa.array(self.emp, pa.int64()),
            "org_size": pa.array(band, pa.string()),
            "city": pa.array(self.city, pa.string()),
            "state": pa.array(self.state, pa.string()),
            "postal_code": pa.array(self.postal, pa.string()),
            "country": pa.array(self.country, pa.string()),
            "industry": pa.array(self.industry, pa.string()),
            "vertical": pa.array(self.vertical, pa.string()),
            "segment": pa.array(np.full(n, "SMB"), pa.string()),
            "subsegment": pa.array(sub, pa.string()),
            "acr_monthly_usd": pa.array(np.round(acr, 2)),
            "duns_number": pa.array(self.duns, pa.string()),
            "created_at": pa.array(self.created.astype(np.int32), pa.int32()).cast(pa.date32()),
        })
        lake.write(C.COMPANIES, companies)
        k = len(self.partner_ids)
        lake.write(C.PARTNERS, pa.table({
            "global_id": pa.array(self.partner_ids, pa.string()),
            "partner_name": pa.array(self.partner_names, pa.string()),
            "country": pa.array(self.partner_country, pa.string()),
        }))
        pc_c = np.concatenate([np.arange(n), np.flatnonzero(self.second >= 0)])
        pc_p = np.concatenate([self.primary, self.second[self.second >= 0]])
        since = self.partner_since[pc_c] + np.where(np.arange(pc_c.size) >= n, 200, 0)
        pc = pa.table({
            "global_id": pa.array(self.partner_ids[pc_p], pa.string()),
            "customer_id": pa.array(self.customer_ids[pc_c], pa.string()),
            "since": pa.array(since.astype(np.int32), pa.int32()).cast(pa.date32()),
        }).sort_by([("global_id", "ascending"), ("customer_id", "ascending")])
        lake.write(C.PARTNER_CUSTOMERS, pc)
        a = self.agr
        programs = np.array(["EA", "MCA", "CSP", "Open"])
        divisions = np.array(["Modern Work", "Azure", "Business Applications", "Security"])
        agr_rows = a["start"] <= export_day
        order = np.flatnonzero(agr_rows)
        n_agreements = int(order.size)
        lake.write(C.AGREEMENTS, pa.table({
            "agreement_id": pa.array([f"AGR-{i + 1:09d}" for i in range(order.size)], pa.string()),
            "customer_id": pa.array(self.customer_ids[a["cust"][order]], pa.string()),
            "program": pa.array(programs[a["program"][order]], pa.string()),
            "start_date": pa.array(a["start"][order].astype(np.int32), pa.int32()).cast(pa.date32()),
            "end_date": pa.array(a["end"][order].astype(np.int32), pa.int32()).cast(pa.date32()),
            "revenue_division": pa.array(divisions[a["division"][order]], pa.string()),
            "due_revenue_usd": pa.array(self._due_revenue(a["cust"][order])),
        }))
        o = {k2: np.concatenate([x[k2] for x in self.opps]) for k2 in self.opps[0]}
        closed = o["closed"]
        late = closed > export_day
        outcome = np.where(late, "open", o["outcome"])
        closed_arr = pa.array(np.where(closed < 0, 0, closed).astype(np.int32), pa.int32(),
                              mask=(closed < 0) | late).cast(pa.date32())
        order = np.lexsort((o["cust"], o["created"]))
        opp = pa.table({
            "opportunity_id": pa.array([f"OPP-{i + 1:09d}" for i in range(order.size)], pa.string()),
            "customer_id": pa.array(self.customer_ids[o["cust"][order]], pa.string()),
            "global_id": pa.array(self.partner_ids[o["partner"][order]], pa.string()),
            "product": pa.array(np.array(PRODUCTS)[o["prod"][order]], pa.string()),
            "created_at": pa.array(o["created"][order].astype(np.int32), pa.int32()).cast(pa.date32()),
            "closed_at": closed_arr.take(pa.array(order)),
            "outcome": pa.array(outcome[order], pa.string()),
            "amount_usd": pa.array(o["amount"][order]),
        })
        lake.write(C.OPPORTUNITIES, opp)
        traces = self._web_traces_table()
        lake.write(C.WEB_TRACES, traces)
        summary.rows = {"companies": n, "partners": k, "partner_customers": pc.num_rows,
                        "agreements": n_agreements, "opportunities": opp.num_rows,
                        "web_traces": traces.num_rows}


MARKET_SPEC = "sandbox/market.json"
_IDENTITY = ("companies", "months", "end_month", "seed", "press_host", "forum_host",
             "social_host")


def write_market_spec(lake: Lake, spec: SandboxSettings) -> None:
    """Record, in the lake, the arguments a market was generated with.

    The web server reads them back so it always renders with the generator's seed, hosts
    and history window, whatever the current settings say.
    """
    import json

    path = lake.root / MARKET_SPEC
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({k: getattr(spec, k) for k in _IDENTITY}, indent=2) + "\n")
    tmp.replace(path)


def market_spec(lake: Lake, settings: SandboxSettings) -> SandboxSettings:
    """``settings`` with the market's identity (seed, hosts, window) taken from the lake.

    Fault rates and other serving choices stay as configured. Without a recorded spec
    (an older lake), ``settings`` is returned unchanged.
    """
    import json

    path = lake.root / MARKET_SPEC
    if not path.is_file():
        return settings
    recorded = json.loads(path.read_text())
    return settings.model_copy(update={k: v for k, v in recorded.items() if k in _IDENTITY})


def _solve_bias(logit: np.ndarray, target: float) -> float:
    """The constant b with mean(sigmoid(b + logit)) == target (bisection)."""
    if logit.size == 0:
        return -5.0
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _sigmoid(mid + logit).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def generate_market(lake: Lake, spec: SandboxSettings,
                    progress: Callable[[str], None] | None = None) -> MarketSummary:
    """Generate the market described by ``spec`` into ``lake`` (raw/ and truth/).

    Deterministic: the same ``spec`` writes byte-identical Parquet files.
    """
    gen = MarketGenerator(spec)
    summary = gen.run(lake, progress=progress)
    write_market_spec(lake, spec)
    return summary
