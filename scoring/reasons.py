"""Plain-word reasons from per-row feature contributions.

The contributions are the decision-path attribution of :mod:`scoring.attribution` by
default, or LightGBM's exact TreeSHAP (``pred_contrib``) with
``[scoring] attribution = "treeshap"``; both sum to the model's raw score.

For each score, the model's per-row contributions (log-odds) are summed by *group* (all
columns of one signal topic, one product area's signals, one product's install base,
adoption or win/loss, the agreements, each firmographic), so three reasons never repeat one
topic in three windows. A high score (50 and above) is explained by its strongest positive
groups, a low one by its strongest negative groups; each group is said in words from the
customer's own value of the group's strongest column. A signal reason names its evidence:
what the page said, the source, the date it showed and its URL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from propensity import contracts as C
from propensity.months import cutoff

_SIG_METRICS = ("count_30d", "count_90d", "count_180d", "trend", "days_since_last", "seen",
                "n_sources", "max_confidence")
_NAME = {p: C.AREAS[p] if p != "security_e5" else "Microsoft 365 E5" for p in C.PRODUCTS}
_NAME.update({"azure": "Azure", "m365": "Microsoft 365", "copilot": "Copilot",
              "d365_bc": "Business Central", "d365_sales_pro": "Dynamics 365 Sales Pro",
              "power_apps": "Power Apps", "surface": "Surface", "renewal": "agreement renewal"})
_PRODUCT_RE = "|".join(sorted((p for p in C.PRODUCTS), key=len, reverse=True))
_FAMILY_RE = re.compile(rf"^(ib|adopt|wl|sigarea)_({_PRODUCT_RE})_(.+)$")
_TOPIC_RE = re.compile(rf"^sig_({'|'.join(sorted(C.TOPIC_IDS, key=len, reverse=True))})_(.+)$")
_RECENT_WL_RE = re.compile(r"^(opps|wins|losses)_(\d+)d$")


def not_eligible_reason(product: str) -> str:
    """Why a customer has no intent score for ``product``."""
    if product == "renewal":
        return "no agreement ends within 90 days"
    if product in ("copilot", "security_e5"):
        return f"already owns {_NAME[product]}, or has no Microsoft 365 to add it to"
    return f"already owns {_NAME[product]}"


def group_of(feature: str) -> str:
    """The reason group of a feature column (see the module docstring)."""
    m = _TOPIC_RE.match(feature)
    if m:
        return f"topic:{m.group(1)}"
    m = _FAMILY_RE.match(feature)
    if m:
        return f"{m.group(1)}:{m.group(2)}"
    if feature.startswith("agr_"):
        return "agr"
    if feature.startswith("sig_"):
        return "sig"
    return feature


# --------------------------------------------------------------------------------------
# Evidence: the strongest signal per customer and topic
# --------------------------------------------------------------------------------------


def strongest_signals(signals: pd.DataFrame, month: str) -> pd.DataFrame:
    """One row per (customer_id, topic): the signal a reason should cite.

    ``signals`` are crawl partitions up to ``month`` (with a ``month`` column). The rules of
    the features stage apply: a crawl for month P counts as observed just before P's cut-off,
    a signal is dated by ``published_at`` (else that observation) and only signals dated
    before ``month``'s cut-off count. Strongest = dated within 90 days first, then most
    confident, then most recent.
    """
    cols = ["customer_id", "topic", "url", "day", "evidence", "source", "confidence"]
    if signals is None or signals.empty:
        return pd.DataFrame(columns=cols)
    s = signals[signals["customer_id"].notna()].copy()
    obs = pd.to_datetime(s["observed_at"])
    if "month" in s.columns:
        part = pd.to_datetime(s["month"].astype(str) + "-01") - pd.Timedelta(hours=1)
        obs = obs.where(obs < part, part)
    day = pd.to_datetime(s["published_at"]).fillna(obs.dt.normalize())
    cut = pd.Timestamp(cutoff(month))
    s["day"] = day
    s = s[(obs < cut) & (day < cut)]
    s["_recent"] = (cut - s["day"]).dt.days <= 90
    s = s.sort_values(["customer_id", "topic", "_recent", "confidence", "day"],
                      ascending=[True, True, False, False, False])
    s = s.drop_duplicates(["customer_id", "topic"])
    s["day"] = s["day"].dt.date
    return s[cols].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


def _yes(v: Any) -> bool:
    f = _num(v)
    return bool(f) if f is not None else bool(v) if isinstance(v, bool | np.bool_) else False


def describe(feature: str, value: Any) -> str:
    """One feature's value in plain words (the customer's own value, not the model's)."""
    v, f = value, _num(value)
    m = _TOPIC_RE.match(feature)
    if m:
        topic, metric = m.groups()
        what = C.TOPIC_BY_ID[topic].description
        if not f:
            return f"no sign on the web that it {what}" if metric in ("seen", "count_180d") \
                else f"nothing recent on the web: {what}"
        return _signal_words(what, metric, f)
    m = _FAMILY_RE.match(feature)
    if m:
        fam, product, metric = m.groups()
        return _family_words(fam, _NAME[product], metric, v, f)
    if feature.startswith("firm_"):
        return _firm_words(feature[5:], v, f)
    if feature.startswith("agr_"):
        return _agr_words(feature[4:], v, f)
    if feature == "sig_any_seen":
        return "signals about it seen on the web" if f else "no signal about it on the web"
    if feature == "sig_count_90d":
        return f"{int(f or 0)} web signals in the last 90 days"
    if feature == "sig_topics_90d":
        return f"{int(f or 0)} distinct buying topics on the web in 90 days"
    if feature == "ib_revenue_usd":
        return f"spends ${f or 0:,.0f} a month with the vendor"
    if feature == "ib_products_owned":
        return f"owns {int(f or 0)} of the vendor's products"
    return f"{feature.replace('_', ' ')}: {v}"


def _signal_words(what: str, metric: str, f: float) -> str:
    if metric.startswith("count_"):
        return f"{int(f)} signal(s) in the last {metric[6:]}: {what}"
    if metric == "days_since_last":
        return f"seen {int(f)} days ago: {what}"
    if metric == "trend":
        return f"rising mentions: {what}" if f > 0 else f"fading mentions: {what}"
    if metric == "n_sources":
        return f"seen on {int(f)} kind(s) of source: {what}"
    if metric == "max_confidence":
        return f"read with confidence {f:.2f}: {what}"
    return f"seen on the web: {what}"


def _family_words(fam: str, name: str, metric: str, v: Any, f: float | None) -> str:
    if fam == "sigarea":
        if not f and metric != "trend":
            return f"no {name} buying signal on the web"
        if metric == "days_since_last":
            return f"last {name} buying signal {int(f or 0)} days ago"
        if metric == "trend":
            return f"{name} buying signals {'rising' if (f or 0) > 0 else 'fading'}"
        if metric.startswith("count_"):
            return f"{int(f or 0)} {name} buying signal(s) in the last {metric[6:]}"
        return f"{name} buying signals on the web (confidence {f:.2f})" \
            if metric == "max_confidence" else f"{name} buying signals on the web"
    if fam == "ib":
        if metric == "owned":
            return f"owns {name}" if _yes(v) else f"does not own {name}"
        if metric == "status":
            return f"{name} subscription is {v}" if v is not None and v == v else \
                f"no {name} subscription"
        if metric == "seats":
            return f"{int(f or 0)} {name} seats"
        if metric == "subscriptions":
            return f"{int(f or 0)} {name} subscription(s)"
        if metric == "tenure_days":
            return f"{name} customer for {int((f or 0) / 30)} months" if f else \
                f"never a {name} customer"
        if metric == "revenue_usd":
            return f"{name} revenue ${f or 0:,.0f} a month"
        if metric == "trial":
            return f"a {name} trial is running" if _yes(v) else f"no {name} trial"
    if fam == "adopt":
        if metric == "expiring_90d":
            return f"{name} subscription ends within 90 days" if _yes(v) else \
                f"no {name} subscription ending within 90 days"
        if metric == "auto_renewing_90d":
            return f"{name} renews automatically within 90 days" if _yes(v) else \
                f"no {name} auto-renewal due"
        if metric in ("deployment_pct", "usage_pct"):
            label = "deployment" if metric.startswith("deployment") else "usage"
            return f"{name} {label} at {f:.0%}" if f is not None else f"no {name} {label} data"
        if metric == "active_28d":
            return f"{int(f or 0)} active {name} users in 28 days"
        if metric == "overage_seats":
            return f"{int(f or 0)} {name} seats assigned over the licence limit"
        if metric == "overage":
            return f"over its {name} licence limit" if _yes(v) else f"within its {name} licences"
        if metric == "no_recent_activity":
            return f"no recent {name} activity" if _yes(v) else f"{name} in active use"
        if metric == "low_assignment":
            return f"low {name} licence assignment" if _yes(v) else \
                f"{name} licences well assigned"
        if metric.endswith("_band"):
            return f"{name} {metric[:-5]} band {v}" if v is not None and v == v else \
                f"no {name} {metric[:-5]} band"
    if fam == "wl":
        if metric == "wins":
            return f"won {int(f or 0)} {name} deal(s) before"
        if metric == "losses":
            return f"lost {int(f or 0)} {name} deal(s) before"
        if metric == "opps":
            return f"{int(f or 0)} {name} opportunity(ies) on record"
        m = _RECENT_WL_RE.match(metric)
        if m:
            what, days = m.groups()
            n = int(f or 0)
            if what == "opps":
                return f"{n} {name} opportunity(ies) opened in the last {days} days"
            return f"{'won' if what == 'wins' else 'lost'} {n} {name} deal(s) in the last {days} days"
        if metric == "open":
            return f"an open {name} opportunity" if f else f"no open {name} opportunity"
        if metric == "days_since_last":
            return f"last {name} opportunity {int(f)} days ago" if f is not None else \
                f"no {name} opportunity on record"
        if metric == "win_rate":
            return f"{name} win rate {f:.0%}" if f is not None else f"no {name} deals decided"
    return f"{name} {metric.replace('_', ' ')}: {v}"


def _firm_words(metric: str, v: Any, f: float | None) -> str:
    if metric == "employees":
        return f"{int(f or 0):,} employees"
    if metric == "org_size":
        return f"org size {v}"
    if metric == "subsegment":
        return f"{v} business"
    if metric == "industry":
        return f"industry: {v}"
    if metric == "vertical":
        return f"vertical: {v}"
    if metric == "country":
        return f"based in {v}"
    if metric == "acr_monthly_usd":
        return f"Azure consumption ${f or 0:,.0f} a month"
    if metric == "account_age_days":
        return f"a customer for {(f or 0) / 365:.1f} years"
    return f"{metric.replace('_', ' ')}: {v}"


def _agr_words(metric: str, v: Any, f: float | None) -> str:
    if metric == "active_count":
        return f"{int(f or 0)} agreement(s) in force"
    if metric == "days_to_end":
        return f"agreement ends in {int(f)} days" if f is not None else "no agreement in force"
    if metric in ("due_revenue_usd", "due_revenue_90d_usd"):
        return f"${f or 0:,.0f} due at agreement renewal"
    if metric == "ending_90d":
        return "agreement ends within 90 days" if _yes(v) else "no agreement ending soon"
    if metric == "has_ea":
        return "has an Enterprise Agreement" if _yes(v) else "no Enterprise Agreement"
    return f"agreement {metric.replace('_', ' ')}: {v}"


def evidence_words(ev: Any) -> str:
    """A cited signal: what the page said, where, when (at most ~280 characters of quote)."""
    when = ev.day.isoformat() if isinstance(ev.day, dt.date) else str(ev.day)
    quote = str(ev.evidence or "").strip().replace("\n", " ")
    if len(quote) > 160:
        quote = quote[:157] + "..."
    what = C.TOPIC_BY_ID[ev.topic].description if ev.topic in C.TOPIC_BY_ID else ev.topic
    return f"{what}: \"{quote}\" ({ev.source}, {when}, {ev.url})"


# --------------------------------------------------------------------------------------
# The explainer
# --------------------------------------------------------------------------------------


@dataclass
class Explained:
    reasons: list[list[str]]
    url: np.ndarray
    date: np.ndarray
    top: np.ndarray


class Evidence:
    """The signals reasons cite, keyed ``customer_id|group`` for vectorised look-ups.

    A ``topic:<id>`` group cites the customer's strongest signal of that topic, a
    ``sigarea:<product>`` group its strongest signal about the product area (see
    :func:`strongest_signals`). Built once per month and shared by every chunk of rows.
    """

    def __init__(self, signals: pd.DataFrame | None, month: str) -> None:
        ev = signals if signals is not None else pd.DataFrame(
            columns=["customer_id", "topic", "url", "day", "evidence", "source", "confidence"])
        topic = ev.assign(group="topic:" + ev["topic"].astype(str))
        area = _strongest_by_area(ev, month)
        area = area.assign(group="sigarea:" + area["area"].astype(str))
        both = pd.concat([topic, area], ignore_index=True)
        keys = (both["customer_id"].astype(str) + "|" + both["group"]).to_numpy(dtype=object)
        last = ~pd.Index(keys).duplicated(keep="last")
        both, keys = both[last], keys[last]
        self.keys = pd.Index(keys)
        self.text = np.array(["seen on the web: " + evidence_words(r)
                              for r in both.itertuples(index=False)], dtype=object)
        self.url = both["url"].to_numpy(dtype=object)
        self.day = both["day"].to_numpy(dtype=object)

    def find(self, ids: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Position of each (customer id, group) pair's signal, -1 where there is none."""
        if len(self.keys) == 0 or len(ids) == 0:
            return np.full(len(ids), -1, dtype=np.intp)
        keys = pd.Series(ids, dtype=object) + "|" + pd.Series(groups, dtype=object)
        return self.keys.get_indexer(keys.to_numpy(dtype=object))


class Explainer:
    """Turns contribution matrices into reasons for rows of one month's feature table."""

    def __init__(self, features: pd.DataFrame, signals: pd.DataFrame | None, month: str,
                 evidence: Evidence | None = None) -> None:
        self.features = features
        self.ids = features["customer_id"].astype(str).to_numpy(dtype=object)
        self.evidence = evidence if evidence is not None else Evidence(signals, month)
        self.month = month
        self._cache: dict[tuple[str, Any], str] = {}
        self._cols: dict[str, np.ndarray] = {}

    def _words(self, feature: str, value: Any) -> str:
        key = (feature, value if not isinstance(value, float) or value == value else None)
        try:
            hit = self._cache.get(key)
        except TypeError:
            return describe(feature, value)
        if hit is None:
            hit = describe(feature, value)
            if len(self._cache) < 200_000:
                self._cache[key] = hit
        return hit

    def explain(self, product: str, kind: str, contrib: np.ndarray | None,
                names: Sequence[str], rows: np.ndarray, n: int,
                high: np.ndarray | None = None) -> Explained:
        """Reasons for ``rows`` of the feature table from their ``contrib`` rows.

        Vectorised over rows: the strongest groups per row by one sort, the strongest
        column of each group by one argmax per group, evidence by one index look-up per
        rank and words once per distinct (column, value).
        """
        k = len(rows)
        rows = np.asarray(rows)
        ids = self.ids[rows]
        url = np.full(k, None, dtype=object)
        date = np.full(k, None, dtype=object)
        if kind == "intent" and k:
            pos = self.evidence.find(ids, np.full(k, f"sigarea:{product}", dtype=object))
            hit = pos >= 0
            url[hit], date[hit] = self.evidence.url[pos[hit]], self.evidence.day[pos[hit]]
        if contrib is None or k == 0:
            return Explained([[] for _ in range(k)], url, date, np.full(k, None, object))
        groups = [group_of(c) for c in names]
        uniq = sorted(set(groups))
        gi = {g: i for i, g in enumerate(uniq)}
        member = np.array([gi[g] for g in groups])
        onehot = np.zeros((len(names), len(uniq)), np.float32)
        onehot[np.arange(len(names)), member] = 1.0
        summed = contrib @ onehot
        if high is None:
            high = summed.sum(axis=1) >= 0
        high = np.asarray(high, bool)
        signed = np.where(high[:, None], summed, -summed)
        order = np.argsort(-signed, axis=1)[:, :n]
        members = [np.flatnonzero(member == g) for g in range(len(uniq))]
        uniq_arr = np.array(uniq, dtype=object)
        cites = np.array([u.startswith(("topic:", "sigarea:")) for u in uniq], dtype=bool)
        texts = np.full((k, order.shape[1]), None, dtype=object)
        ar = np.arange(k)
        for r in range(order.shape[1]):
            g = order[:, r]
            ok = signed[ar, g] > 0
            gname = uniq_arr[g]
            t = np.full(k, None, dtype=object)
            cited = ok & cites[g]
            if cited.any():
                pos = self.evidence.find(ids[cited], gname[cited])
                found = np.full(k, False)
                found[np.flatnonzero(cited)[pos >= 0]] = True
                t[found] = self.evidence.text[pos[pos >= 0]]
            else:
                found = np.zeros(k, bool)
            need = np.flatnonzero(ok & ~found)
            if len(need):
                col = _strongest_column(contrib, high, members, need, g[need])
                t[need] = self._column_words(np.asarray(names, dtype=object), col, rows[need])
            # a reason is said once: drop empty texts and repeats of an earlier rank
            keep = ok & (t != None) & (t != "")  # noqa: E711 - elementwise on objects
            for q in range(r):
                keep &= t != texts[:, q]
            texts[keep, r] = t[keep]
        with _no_gc():  # millions of small lists: no collection pass in the middle
            reasons = texts.tolist()
            for j in np.flatnonzero((texts == None).any(axis=1)):  # noqa: E711
                reasons[j] = [x for x in reasons[j] if x is not None]
        top = uniq_arr[order[:, 0]] if order.shape[1] else np.full(k, None, object)
        return Explained(reasons, url, date, top)

    def _column_words(self, names: np.ndarray, col: np.ndarray, rows: np.ndarray
                      ) -> np.ndarray:
        """Words for each (column index, feature-table row) pair, once per distinct value."""
        out = np.empty(len(col), dtype=object)
        for c in np.unique(col):
            sel = np.flatnonzero(col == c)
            feature = names[c]
            if feature not in self._cols:
                self._cols[feature] = self.features[feature].to_numpy()
            values = self._cols[feature][rows[sel]]
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            words = np.array([self._words(feature, u) for u in uniques] + [None], dtype=object)
            if (codes < 0).any():
                words[-1] = self._words(feature, values[np.flatnonzero(codes < 0)[0]])
            out[sel] = words[codes]
        return out


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (it would rescan every list built so far)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _strongest_column(contrib: np.ndarray, high: np.ndarray, members: list[np.ndarray],
                      rows: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """For each (row, group) pair, the group's column that pushes the row's score hardest
    the way it went (up for a high score, down for a low one; the first one on ties)."""
    out = np.empty(len(rows), dtype=np.intp)
    for g in np.unique(groups):
        sel = np.flatnonzero(groups == g)
        idx = members[g]
        if len(idx) == 1:
            out[sel] = idx[0]
            continue
        r = rows[sel]
        c = contrib[r[:, None], idx[None, :]]
        c = np.where(high[r][:, None], c, -c)
        out[sel] = idx[np.argmax(c, axis=1)]
    return out


def _strongest_by_area(ev: pd.DataFrame, month: str) -> pd.DataFrame:
    """The signal to cite per (customer_id, product area), by :func:`strongest_signals`'
    order (dated within 90 days first, then most confident, then most recent)."""
    e = ev[ev["topic"].isin(list(C.TOPIC_BY_ID))]
    if e.empty:
        return e.assign(area=pd.Series(dtype=object))
    e = e.assign(area=e["topic"].map(lambda t: list(C.TOPIC_BY_ID[t].product_areas)))
    e = e.explode("area")
    age = (pd.Timestamp(cutoff(month)) - pd.to_datetime(e["day"])).dt.days
    e = e.assign(recent=age <= 90)
    e = e.sort_values(["customer_id", "area", "recent", "confidence", "day"],
                      ascending=[True, True, False, False, False], kind="stable")
    return e.drop_duplicates(["customer_id", "area"])
