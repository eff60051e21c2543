"""The sandbox market: determinism, contracts and realism."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from propensity import contracts as C
from propensity.cli import app
from propensity.lake import Lake
from propensity.months import add_months, cutoff
from propensity.settings import SandboxSettings
from sandbox import generate_market, geo
from sandbox.baseline import firmographic_vs_oracle
from sandbox.oracle import capture_at, oracle_figures, oracle_scores, purchase_labels
from tests.conftest import SMALL, lake_files


def test_same_arguments_give_byte_identical_tables(tmp_path):
    spec = SandboxSettings(companies=300, months=5, seed=11)
    generate_market(Lake(tmp_path / "a"), spec)
    generate_market(Lake(tmp_path / "b"), spec)
    a, b = lake_files(tmp_path / "a"), lake_files(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) == 2 + 4 + 2 * 5  # static + truth + monthly
    assert all(a[k] == b[k] for k in a)
    generate_market(Lake(tmp_path / "c"), spec.model_copy(update={"seed": 12}))
    c = lake_files(tmp_path / "c")
    assert c["raw/companies/part-0.parquet"] != a["raw/companies/part-0.parquet"]


def test_every_table_matches_its_contract(small_lake):
    for contract in (*C.RAW_TABLES, *C.TRUTH_TABLES):
        months = small_lake.months(contract) if contract.monthly else [None]
        assert months, contract.name
        for m in months:
            contract.validate(small_lake.read(contract, month=m), where=str(m))
    assert small_lake.months(C.SUBSCRIPTIONS) == small_lake.months(C.PURCHASE_PROBABILITY)
    assert len(small_lake.months(C.SUBSCRIPTIONS)) == SMALL.months


def test_contract_errors_name_table_column_and_rows(small_lake):
    comp = small_lake.read(C.COMPANIES)
    with pytest.raises(C.ContractError, match=r"companies.*missing column\(s\) \['domain'\]"):
        C.COMPANIES.validate(comp.drop(["domain"]))
    dup = comp.slice(0, 3).append_column("x", comp.slice(0, 3)["employees"]).drop(["x"])
    import pyarrow as pa

    with pytest.raises(C.ContractError, match="duplicate key"):
        C.COMPANIES.validate(pa.concat_tables([comp, dup]))


def _companies(lake: Lake) -> pd.DataFrame:
    return lake.read(C.COMPANIES).to_pandas()


def test_subsegment_shares_and_sizes(small_lake):
    c = _companies(small_lake)
    share = c["subsegment"].value_counts(normalize=True)
    assert share["Very small"] > share["Medium"] > share["Upper medium"] > 0.03
    assert 0.5 < share["Very small"] < 0.75
    vs = c[c.subsegment == "Very small"]
    assert vs.employees.between(1, 24).all()
    md = c[c.subsegment == "Medium"]
    assert md.employees.between(25, 300).all()
    um = c[c.subsegment == "Upper medium"]
    assert ((um.employees > 300) | (um.acr_monthly_usd > 1000)).all()
    assert (um.acr_monthly_usd > 1000).any() and (um.employees > 300).any()


def test_geography_is_consistent(small_lake):
    c = _companies(small_lake)
    valid = {(k.code, city.name, city.state, city.prefix)
             for k in geo.COUNTRIES for city in k.cities}
    prefixes = {}
    for code, name, state, prefix in valid:
        prefixes.setdefault((code, name, state), []).append(prefix)
    for row in c.itertuples():
        key = (row.country, row.city, row.state)
        assert key in prefixes, key
        assert any(row.postal_code.startswith(p) for p in prefixes[key]), row
    us = c[c.country == "US"].postal_code
    assert us.str.fullmatch(r"\d{5}").all()
    ca = c[c.country == "CA"].postal_code
    assert ca.str.fullmatch(r"[A-Z]\d[A-Z] \d[A-Z]\d").all()


def test_domains_unique_names_realistic_with_near_duplicates(small_lake):
    from difflib import SequenceMatcher

    c = _companies(small_lake)
    assert c["domain"].is_unique
    assert c["domain"].str.fullmatch(r"[a-z0-9-]+(\.[a-z]{2,3}){1,2}").all()
    assert c["customer_id"].is_unique and c["duns_number"].str.fullmatch(r"\d{9}").all()
    assert c["account_name"].nunique() < len(c)  # some different companies share a name
    core = c["account_name"].str.replace(
        r"\s+(Inc\.|LLC|Ltd\.?|Limited|GmbH.*|AG|KG|SAS|SARL|SA|B\.V\.|S\.L\.|S\.A\.|S\.r\.l\.|"
        r"S\.p\.A\.|Pty Ltd|DAC|LLP|Co\.|Corp\.)$", "", regex=True)
    names = sorted(set(core))
    near = sum(
        1 for a, b in zip(names, names[1:], strict=False)
        if a != b and SequenceMatcher(None, a, b).ratio() > 0.85
    )
    assert near >= 10, near
    # industry and vertical agree
    from sandbox.names import INDUSTRIES

    assert all(v in INDUSTRIES[i][1] for i, v in zip(c.industry, c.vertical, strict=True))


def test_purchase_base_rates_in_range(small_market):
    lake, summary, _ = small_market
    for p, rate in summary.purchase_rate.items():
        assert 0.004 <= rate <= 0.065, (p, rate)
    # the same seen from the raw tables: buyers in one month among that month's eligible
    months = lake.months(C.PURCHASE_PROBABILITY)[2:-3]
    for p in ("m365", "azure", "surface"):
        rates = []
        for m in months:
            truth = lake.read(C.PURCHASE_PROBABILITY, month=m).to_pandas()
            truth = truth[(truth["product"].astype(str) == p) & truth["eligible"]]
            got = purchase_labels(lake, m, horizon=1)
            got = got[got["product"] == p]
            rates.append(truth["customer_id"].astype(str).isin(got["customer_id"]).mean())
        assert 0.005 <= np.mean(rates) <= 0.05, (p, np.mean(rates))


def test_subscriptions_have_real_adoption_metrics(small_lake):
    last = small_lake.months(C.SUBSCRIPTIONS)[-1]
    s = small_lake.read(C.SUBSCRIPTIONS, month=last).to_pandas()
    s["status"] = s["status"].astype(str)
    seat = s[~s["product"].astype(str).isin(["azure", "surface"]) & (s.status == "active")]
    usage = seat.active_users_28d / seat.seats_assigned.clip(lower=1)
    deployment = seat.seats_assigned / seat.seats_sold
    assert (usage > 1.0).mean() > 0.01  # usage above 100% happens
    assert (deployment > 1.0).mean() > 0.005  # licence overage
    assert (deployment < 0.5).mean() > 0.01  # low assignment
    assert 0.6 < deployment.median() < 0.95
    allm = small_lake.read(C.SUBSCRIPTIONS)
    st = set(allm.column("status").to_pylist())
    assert {"trial", "active", "grace", "expired", "suspended"} <= st
    assert s.auto_renew.any() and (~s.auto_renew).any()
    end = pd.to_datetime(s.end_date)
    close = pd.Timestamp(cutoff(add_months(last, 1)))
    assert ((end - close).dt.days.between(0, 90) & (s.status == "active")).any()
    assert (s.end_date > s.start_date).all()
    # a subscription keeps its id across snapshots while its seats move
    first = small_lake.read(C.SUBSCRIPTIONS, month=small_lake.months(C.SUBSCRIPTIONS)[0])
    both = set(first.column("subscription_id").to_pylist()) & set(s.subscription_id)
    assert len(both) > 100


def test_partner_books_and_shared_customers(small_lake):
    pc = small_lake.read(C.PARTNER_CUSTOMERS).to_pandas()
    c = _companies(small_lake)
    assert set(c.customer_id) == set(pc.customer_id)
    per_customer = pc.groupby("customer_id").size()
    assert per_customer.max() == 2 and 0.03 < (per_customer == 2).mean() < 0.15
    books = pc.groupby("global_id").size()
    assert books.max() > 3 * books.median()  # heavy-tailed books
    partners = small_lake.read(C.PARTNERS).to_pandas()
    assert set(pc.global_id) <= set(partners.global_id)


def test_opportunities_win_loss(small_lake):
    o = small_lake.read(C.OPPORTUNITIES).to_pandas()
    assert set(o.outcome) == {"won", "lost", "open"}
    closed = o[o.outcome != "open"]
    assert closed.closed_at.notna().all() and o[o.outcome == "open"].closed_at.isna().all()
    assert (pd.to_datetime(closed.closed_at) >= pd.to_datetime(closed.created_at)).all()
    win_rate = (closed.outcome == "won").mean()
    assert 0.45 < win_rate < 0.8
    assert set(o["product"]) == set(C.PRODUCTS)


def test_intent_leaks_into_no_exported_table(small_market):
    """Hidden intent at a cut-off is uncorrelated with what the exported tables show then."""
    lake, _, hidden = small_market
    c = _companies(lake).reset_index(drop=True)
    months = lake.months(C.SUBSCRIPTIONS)
    for m in months[3:-1:3]:
        intent = hidden[m]["intent"]
        prev = lake.read(C.SUBSCRIPTIONS, month=add_months(m, -1)).to_pandas()
        prev["cust"] = prev["customer_id"].str[1:].astype(int) - 1
        prev["usage"] = prev.active_users_28d / prev.seats_assigned.clip(lower=1)
        prev["deploy"] = prev.seats_assigned / prev.seats_sold.clip(lower=1)
        for j, p in enumerate(C.PRODUCTS[:-1]):
            x = intent[:, j]
            for col in ("employees", "acr_monthly_usd"):
                r = np.corrcoef(x, c[col].to_numpy(float))[0, 1]
                assert abs(r) < 0.12, (m, p, col, r)
            owned = prev.groupby("cust")[["usage", "deploy"]].mean()
            for col in ("usage", "deploy"):
                r = np.corrcoef(x[owned.index], owned[col])[0, 1]
                assert abs(r) < 0.12, (m, p, col, r)
        # positive control: the hidden intent we captured does drive the true probability
        truth = lake.read(C.PURCHASE_PROBABILITY, month=m).to_pandas()
        sel = truth[(truth["product"].astype(str) == "azure") & truth["eligible"]]
        cust = sel["customer_id"].astype(str).str[1:].astype(int).to_numpy() - 1
        logit = np.log(sel.probability / (1 - sel.probability))
        assert np.corrcoef(intent[cust, 0], logit)[0, 1] > 0.4
    for contract in C.RAW_TABLES:
        assert not any(re.search("intent|latent|probab|truth", col)
                       for col in contract.column_names)


def test_firmographics_alone_clearly_weaker_than_oracle(small_lake):
    months = small_lake.months(C.PURCHASE_PROBABILITY)
    res = firmographic_vs_oracle(small_lake, months[2:8], months[-3])
    assert len(res) >= 7
    gap = (res["oracle_auc"] - res["firmographic_auc"]).mean()
    assert gap > 0.12, res
    assert res["oracle_auc"].mean() > 0.7


def test_oracle_ranks_purchases_well(small_lake):
    months = small_lake.months(C.PURCHASE_PROBABILITY)
    rows = {r.product: r for r in oracle_figures(small_lake, months[-6:-2])}
    for p in ("azure", "m365", "copilot", "d365_bc", "security_e5"):
        assert rows[p].auc > 0.68, rows[p]
        assert rows[p].capture_top10 > 0.25, rows[p]
    assert capture_at(np.array([3.0, 2.0, 1.0, 0.0] * 5), np.array([1, 0, 0, 0] * 5)) == 0.4


def test_a_trial_ends_expired_and_never_renews(small_lake):
    """A trial runs for 30 days and then expires: it never renews, lapses into grace or shows
    a paid status (which would make it look like a purchase)."""
    months = small_lake.months(C.SUBSCRIPTIONS)
    snaps = pd.concat([small_lake.read(C.SUBSCRIPTIONS, month=m).to_pandas().assign(month=m)
                       for m in months]).astype({"status": str})
    was_trial = snaps[snaps["status"] == "trial"]["subscription_id"].unique()
    assert len(was_trial) > 50
    later = snaps[snaps["subscription_id"].isin(was_trial)]
    assert set(later["status"]) == {"trial", "expired"}
    days = (pd.to_datetime(later["end_date"]) - pd.to_datetime(later["start_date"])).dt.days
    assert days.max() <= 31


def _truth(lake: Lake, month: str) -> pd.DataFrame:
    t = lake.read(C.PURCHASE_PROBABILITY, month=month).to_pandas()
    return t.astype({"customer_id": str, "product": str}).set_index(["customer_id", "product"])


def test_oracle_counts_later_months_only_where_the_customer_could_still_buy(small_lake):
    """Customers who cannot buy in the window (a Surface owner inside its refresh cycle, an
    agreement renewed before the cut-off or ending this month) get no later-month propensity;
    a customer eligible at the cut-off keeps it (buying ends its eligibility, not its odds)."""
    months = small_lake.months(C.PURCHASE_PROBABILITY)
    m = months[-6]
    t0, t1, t2 = (_truth(small_lake, add_months(m, i)) for i in range(3))
    o = oracle_scores(small_lake, m).set_index(["customer_id", "product"])
    p0 = t0["probability"].astype(float)
    never = ~t0["eligible"] & ~t1["eligible"] & ~t2["eligible"]
    assert never.sum() > 100 and (t1.loc[never, "propensity"] > 0).all()
    assert (o.loc[never[never].index, "probability"] == 0).all()
    # eligible at the cut-off, for products bought once: all three months count
    stay = t0["eligible"] & (t0.index.get_level_values("product") != "renewal")
    expect = 1 - (1 - p0) * (1 - t1["propensity"].astype(float)) * (1 - t2["propensity"].astype(float))
    np.testing.assert_allclose(o.loc[stay[stay].index, "probability"], expect[stay], rtol=1e-6)
    # renewal: the agreement due at the cut-off; months after its end do not count
    agr = small_lake.read(C.AGREEMENTS).to_pandas()
    end = pd.to_datetime(agr["end_date"])
    lo = pd.Timestamp(cutoff(m))
    due = agr[(end >= lo) & (end < lo + pd.Timedelta(days=92))]
    last_day = pd.to_datetime(due.groupby("customer_id")["end_date"].max())
    ends_now = last_day[last_day < pd.Timestamp(cutoff(add_months(m, 1)))].index
    rows = [(c, "renewal") for c in ends_now
            if t0.loc[(c, "renewal"), "eligible"] and not t1.loc[(c, "renewal"), "eligible"]
            and not t2.loc[(c, "renewal"), "eligible"]]
    assert len(rows) >= 5
    np.testing.assert_allclose(o.loc[rows, "probability"], p0[rows], rtol=1e-6)


def test_web_traces_match_the_market(small_lake):
    t = small_lake.read(C.WEB_TRACES).to_pandas()
    c = _companies(small_lake).set_index("customer_id")
    assert set(t.topic) <= set(C.TOPIC_IDS)
    assert set(t.kind) == {"event", "noise", "technology"}
    assert (t.is_noise == (t.kind == "noise")).all()
    assert 0.15 < t.is_noise.mean() < 0.45
    site = t[t.source == "site"]
    hosts = site.url.str.extract(r"^http://([^/]+)/")[0]
    assert (hosts == c.loc[site.customer_id, "domain"].to_numpy()).all()
    other = t[t.source != "site"]
    hosts = set(other.url.str.extract(r"^http://([^/]+)/")[0])
    assert hosts == {SMALL.press_host, SMALL.forum_host, SMALL.social_host}
    tech = t[t.kind == "technology"]
    assert set(tech.topic) <= set(C.TECH_TOPICS) and (tech.page_kind == "home").all()
    # every event topic is seen on the web; each page kind appears
    assert set(t[t.kind == "event"].topic) == set(C.EVENT_TOPICS)
    assert set(t.page_kind) == {"home", "blog", "news", "job", "press", "forum", "social"}
    # traces start before history (stale pages) and stop before the end of history
    first = pd.Timestamp(cutoff(SMALL.end_month)) - pd.DateOffset(months=SMALL.months - 1)
    assert pd.to_datetime(t.published_at).min() < first
    assert pd.to_datetime(t.published_at).max() < pd.Timestamp(cutoff(add_months(SMALL.end_month, 1)))


def test_cli_generate_and_oracle(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["sandbox", "generate", "--companies", "200", "--months", "6",
                              "--seed", "5", "--lake", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert len(Lake(tmp_path).months(C.SUBSCRIPTIONS)) == 6
    res = runner.invoke(app, ["sandbox", "oracle", "--lake", str(tmp_path), "--span", "2"])
    assert res.exit_code == 0, res.output
    assert "AUC" in res.output and "azure" in res.output
    res = runner.invoke(app, ["sandbox", "generate", "--end-month", "2026-13",
                              "--lake", str(tmp_path / "x")])
    assert res.exit_code != 0 and "YYYY-MM" in str(res.exception or res.output)
