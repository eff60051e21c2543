"""The definitions, checked against independent pandas computations on the sandbox market."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features import definitions as D
from propensity import contracts as C
from propensity.months import cutoff
from sandbox.signals import signals_from_traces

from .conftest import MONTH, before

CUT = pd.Timestamp(cutoff(MONTH))


@pytest.fixture(scope="module")
def feats(features) -> pd.DataFrame:
    return features.to_pandas().set_index("customer_id")


@pytest.fixture(scope="module")
def snapshot(built) -> pd.DataFrame:
    lake, _ = built
    s = lake.read(C.SUBSCRIPTIONS, month=before(MONTH)).to_pandas()
    for c in ("product", "status", "sku"):
        s[c] = s[c].astype(str)
    return s


def _per_customer(series: pd.Series, index: pd.Index, fill) -> pd.Series:
    return series.reindex(index).fillna(fill)


def test_install_base_matches_the_snapshot(feats, snapshot):
    owned = snapshot[snapshot["status"].isin(D.OWNED_STATUSES)]
    checked = 0
    for p in D.SUB_PRODUCTS:
        mine = owned[owned["product"] == p]
        seats = _per_customer(mine.groupby("customer_id")["seats_sold"].sum(), feats.index, 0)
        assert (feats[f"ib_{p}_seats"] == seats.astype(int)).all(), p
        has = _per_customer(mine.groupby("customer_id").size() > 0, feats.index, False)
        assert (feats[f"ib_{p}_owned"] == has.astype(bool)).all(), p
        rev = _per_customer(mine.groupby("customer_id")["monthly_revenue_usd"].sum(),
                            feats.index, 0.0)
        assert np.allclose(feats[f"ib_{p}_revenue_usd"], rev), p
        first = mine.groupby("customer_id")["start_date"].min().reindex(feats.index)
        tenure = (CUT - pd.to_datetime(first)).dt.days
        assert np.allclose(feats[f"ib_{p}_tenure_days"].astype(float), tenure.astype(float),
                           equal_nan=True), p
        checked += int(has.sum())
    assert checked > 500
    n_owned = sum(feats[f"ib_{p}_owned"].astype(int) for p in D.SUB_PRODUCTS)
    assert (feats["ib_products_owned"] == n_owned).all()
    trial = snapshot[(snapshot["status"] == "trial") & (snapshot["product"] == "m365")]
    assert set(feats.index[feats["ib_m365_trial"]]) == set(trial["customer_id"])
    status = feats["ib_m365_status"]
    assert set(status.unique()) <= {*D.STATUS_PRIORITY, "none"}
    assert (status[~feats["ib_m365_owned"]].isin(("none", "trial", "expired"))).all()


def test_adoption_metrics_follow_the_domain_definitions(feats, snapshot):
    ent = snapshot[snapshot["status"].isin(D.ENTITLED_STATUSES) & (snapshot["product"] == "m365")]
    g = ent.groupby("customer_id")[["seats_sold", "seats_assigned", "active_users_28d"]].sum()
    dep = (g["seats_assigned"] / g["seats_sold"]).reindex(feats.index)
    use = (g["active_users_28d"] / g["seats_assigned"]).reindex(feats.index)
    assert np.allclose(feats["adopt_m365_deployment_pct"].astype(float), dep, equal_nan=True)
    assert np.allclose(feats["adopt_m365_usage_pct"].astype(float), use, equal_nan=True)
    over = (ent["seats_assigned"] > ent["seats_sold"]).groupby(ent["customer_id"]).any()
    assert set(feats.index[feats["adopt_m365_overage"]]) == set(over[over].index)
    # bands: five colours, only where the metric exists, better colours have better values
    band = feats["adopt_m365_deployment_band"]
    assert band.isna().equals(feats["adopt_m365_deployment_pct"].isna())
    assert set(band.dropna()) == set(D.BANDS)
    means = feats.groupby("adopt_m365_deployment_band")["adopt_m365_deployment_pct"].mean()
    assert means["green"] > means["yellow"] > means["red"]
    for seg, part in feats[band.notna()].groupby("firm_subsegment"):
        share = (part["adopt_m365_deployment_band"] == "red").mean()
        assert 0.05 < share <= 0.35, (seg, share)
    # low assignment: well below similar customers' mean
    low = feats[feats["adopt_m365_low_assignment"]]
    seg_mean = feats.groupby("firm_subsegment")["adopt_m365_deployment_pct"].mean()
    assert len(low) > 0
    assert (low["adopt_m365_deployment_pct"]
            < D.LOW_ASSIGNMENT_RATIO * low["firm_subsegment"].map(seg_mean) + 1e-12).all()
    # expiring / auto-renewing within 90 days
    s = snapshot[(snapshot["product"] == "m365") & snapshot["status"].isin(("active", "grace"))]
    days = (pd.to_datetime(s["end_date"]) - CUT).dt.days
    soon = s[(days >= 0) & (days < 90)]
    assert set(feats.index[feats["adopt_m365_auto_renewing_90d"]]) == set(
        soon.loc[soon["auto_renew"], "customer_id"])
    assert set(feats.index[feats["adopt_m365_expiring_90d"]]) == set(
        soon.loc[~soon["auto_renew"], "customer_id"])


def test_win_loss_uses_only_what_was_known_at_the_cutoff(feats, built):
    lake, _ = built
    o = lake.read(C.OPPORTUNITIES).to_pandas()
    created = pd.to_datetime(o["created_at"])
    closed = pd.to_datetime(o["closed_at"])
    o = o[created < CUT]
    done = closed.loc[o.index].notna() & (closed.loc[o.index] < CUT)
    for p in ("m365", "azure", "renewal"):
        mine = o[o["product"] == p]
        d = done.loc[mine.index]
        wins = mine[d & (mine["outcome"] == "won")].groupby("customer_id").size()
        losses = mine[d & (mine["outcome"] == "lost")].groupby("customer_id").size()
        opened = mine[~d].groupby("customer_id").size()
        assert (feats[f"wl_{p}_wins"] == _per_customer(wins, feats.index, 0)).all(), p
        assert (feats[f"wl_{p}_losses"] == _per_customer(losses, feats.index, 0)).all(), p
        assert (feats[f"wl_{p}_open"] == _per_customer(opened, feats.index, 0)).all(), p
        rate = feats[f"wl_{p}_win_rate"]
        closed_n = feats[f"wl_{p}_wins"] + feats[f"wl_{p}_losses"]
        assert rate[closed_n == 0].isna().all()
        assert np.allclose(rate[closed_n > 0], (feats[f"wl_{p}_wins"] / closed_n)[closed_n > 0])
    assert feats["wl_m365_wins"].sum() > 20 and feats["wl_m365_losses"].sum() > 5


def test_recent_win_loss_counts_only_the_window_before_the_cutoff(feats, built):
    """``wl_<p>_{opps,wins,losses}_90d``: the last 90 days only, the cut-off day excluded."""
    lake, _ = built
    w = D.WIN_LOSS_RECENT_DAYS
    o = lake.read(C.OPPORTUNITIES).to_pandas()
    created = pd.to_datetime(o["created_at"])
    closed = pd.to_datetime(o["closed_at"])
    lo = CUT - pd.Timedelta(days=w)
    opened_in = (created >= lo) & (created < CUT)
    closed_in = (created < CUT) & closed.notna() & (closed >= lo) & (closed < CUT)
    seen = 0
    for p in ("m365", "azure", "renewal"):
        mine = o["product"] == p
        opps = o[mine & opened_in].groupby("customer_id").size()
        wins = o[mine & closed_in & (o["outcome"] == "won")].groupby("customer_id").size()
        losses = o[mine & closed_in & (o["outcome"] == "lost")].groupby("customer_id").size()
        assert (feats[f"wl_{p}_opps_{w}d"] == _per_customer(opps, feats.index, 0)).all(), p
        assert (feats[f"wl_{p}_wins_{w}d"] == _per_customer(wins, feats.index, 0)).all(), p
        assert (feats[f"wl_{p}_losses_{w}d"] == _per_customer(losses, feats.index, 0)).all(), p
        assert (feats[f"wl_{p}_wins_{w}d"] <= feats[f"wl_{p}_wins"]).all(), p
        seen += int(feats[f"wl_{p}_wins_{w}d"].sum())
    # the window is narrower than the history: some wins fall outside it
    assert 0 < seen < sum(int(feats[f"wl_{p}_wins"].sum()) for p in ("m365", "azure", "renewal"))


def test_agreements_in_force(feats, built):
    lake, _ = built
    a = lake.read(C.AGREEMENTS).to_pandas()
    a = a[pd.to_datetime(a["start_date"]) < CUT]
    days = (pd.to_datetime(a["end_date"]) - CUT).dt.days
    live = a[days >= 0].assign(days=days[days >= 0])
    soonest = _per_customer(live.groupby("customer_id")["days"].min(), feats.index, np.nan)
    assert np.allclose(feats["agr_days_to_end"].astype(float), soonest, equal_nan=True)
    due = _per_customer(live.groupby("customer_id")["due_revenue_usd"].sum(), feats.index, 0)
    assert np.allclose(feats["agr_due_revenue_usd"], due)
    assert feats["agr_ending_90d"].equals((feats["agr_days_to_end"] < 90).fillna(False)
                                          .astype(bool))


def test_signal_windows_recency_and_trend_match_the_crawl(feats, built):
    lake, _ = built
    s = signals_from_traces(lake, MONTH).to_pandas()  # the latest crawl holds every signal
    s["age"] = (CUT - pd.to_datetime(s["published_at"])).dt.days
    assert (s["age"] >= 1).all()
    for topic in ("funding_round", "exchange_end_of_support", "tech_competitor_crm"):
        t = s[s["topic"] == topic]
        for w in D.WINDOWS:
            n = _per_customer(t[t["age"] <= w].groupby("customer_id").size(), feats.index, 0)
            assert (feats[f"sig_{topic}_count_{w}d"] == n).all(), (topic, w)
        last = _per_customer(t.groupby("customer_id")["age"].min(), feats.index, np.nan)
        assert np.allclose(feats[f"sig_{topic}_days_since_last"].astype(float), last,
                           equal_nan=True)
        prev = _per_customer(t[(t["age"] > 30) & (t["age"] <= 120)].groupby("customer_id")
                             .size(), feats.index, 0)
        n30 = feats[f"sig_{topic}_count_30d"]
        assert np.allclose(feats[f"sig_{topic}_trend"], n30 - prev / 3)
        src = _per_customer(t.groupby("customer_id")["source"].nunique(), feats.index, 0)
        assert (feats[f"sig_{topic}_n_sources"] == src).all()
        conf = _per_customer(t.groupby("customer_id")["confidence"].max(), feats.index, np.nan)
        assert np.allclose(feats[f"sig_{topic}_max_confidence"].astype(float), conf,
                           equal_nan=True)
    # product areas gather their topics' signals, each signal once
    az = s[s["product_areas"].map(lambda a: "azure" in a)]
    n = _per_customer(az[az["age"] <= 180].groupby("customer_id").size(), feats.index, 0)
    assert (feats["sigarea_azure_count_180d"] == n).all()
    assert feats["sigarea_azure_count_180d"].sum() > 100
    assert (feats["sig_any_seen"] == feats.index.isin(s["customer_id"])).all()


def test_every_feature_name_is_prefixed_by_its_family():
    from features.catalogue import feature_catalogue

    for e in feature_catalogue():
        if e.family != "key":
            assert e.name.startswith(e.family + "_"), e.name
            assert e.name == e.name.lower() and " " not in e.name
            assert e.meaning


def test_definitions_need_no_engine():
    """The definitions compile for both engines' dialects from unbound tables."""
    import ibis

    ibis.pyspark  # noqa: B018 (loads the backend, which registers its compile options)

    defined = D.feature_table(D.unbound_inputs(), MONTH)
    duck = ibis.to_sql(defined.table, dialect="duckdb")
    spark = ibis.to_sql(defined.table, dialect="pyspark")
    assert "sig_funding_round_count_30d" in duck and "sig_funding_round_count_30d" in spark
    assert dt.date(2026, 7, 1) == cutoff(MONTH).date()
