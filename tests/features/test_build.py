"""The builder: point in time by construction, deduplicated crawls, labels, atomic outputs."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from features import build_features
from features.build import MissingInputError
from features.catalogue import features_contract, labels_contract
from propensity import contracts as C
from propensity.months import add_months, cutoff
from sandbox.oracle import purchase_labels

from .conftest import MONTH, append_signals, assert_same_table, before, signal_row


def _cut(month: str = MONTH) -> dt.datetime:
    return cutoff(month)


def _customers(features: pa.Table, n: int) -> list[str]:
    return features["customer_id"].to_pylist()[:n]


def _plant_after_cutoff(lake, customer: str) -> None:
    """Rows in every input, all dated on or after the cut-off of MONTH."""
    cut = _cut()
    later = (cut + dt.timedelta(days=3)).date()
    # signals: a later crawl, a crawl mislabelled as earlier, and a page dated after the cut-off
    append_signals(lake, MONTH, [
        signal_row(customer, "funding_round", str(later), f"{later}T08:00:00"),
        signal_row(customer, "security_incident", str(later), f"{later}T09:00:00",
                   source="forum"),
    ])
    append_signals(lake, before(MONTH), [
        signal_row(customer, "ai_adoption", str(later), f"{later}T10:00:00", source="social"),
    ])
    # subscriptions: purchases after the cut-off appear in the snapshots of M and later, and a
    # row starting after the cut-off slipped into the snapshot at the cut-off
    for m in (MONTH, add_months(MONTH, 1), before(MONTH)):
        snap = lake.read(C.SUBSCRIPTIONS, month=m).cast(_sub_schema(lake, m))
        row = snap.slice(0, 1).to_pylist()[0]
        row.update(subscription_id=f"SUB-PLANT-{m}", customer_id=customer, product="copilot",
                   start_date=later, end_date=later + dt.timedelta(days=365), status="active",
                   seats_sold=40, seats_assigned=40, active_users_28d=35)
        extra = pa.Table.from_pylist([row], schema=snap.schema)
        lake.write(C.SUBSCRIPTIONS, pa.concat_tables([snap, extra]), month=m)
    # opportunities: a new one after the cut-off, and one open at the cut-off decided after it
    _add_opportunities(lake, [
        dict(opportunity_id="OPP-PLANT-NEW", customer_id=customer, product="azure",
             created_at=later, closed_at=later + dt.timedelta(days=5), outcome="won"),
        dict(_open_at_cutoff(customer), closed_at=later, outcome="won"),
    ])
    # agreements starting after the cut-off; a company created after it
    agr = lake.read(C.AGREEMENTS)
    row = agr.slice(0, 1).to_pylist()[0]
    row.update(agreement_id="AGR-PLANT", customer_id=customer, start_date=later,
               end_date=later + dt.timedelta(days=30), program="EA")
    lake.write(C.AGREEMENTS, pa.concat_tables([agr, pa.Table.from_pylist([row], agr.schema)]))
    comp = lake.read(C.COMPANIES)
    row = comp.slice(0, 1).to_pylist()[0]
    row.update(customer_id="C99999999", domain="planted-after-cutoff.com", created_at=later)
    lake.write(C.COMPANIES, pa.concat_tables([comp, pa.Table.from_pylist([row], comp.schema)]))


def _open_at_cutoff(customer: str) -> dict:
    """An opportunity opened ten days before the cut-off and still open at it."""
    return dict(opportunity_id="OPP-PLANT-OPEN", customer_id=customer, product="surface",
                created_at=(_cut() - dt.timedelta(days=10)).date(), closed_at=None,
                outcome="open")


def _add_opportunities(lake, rows: list[dict]) -> None:
    opp = lake.read(C.OPPORTUNITIES)
    base = opp.slice(0, 1).to_pylist()[0]
    extra = pa.Table.from_pylist([{**base, "amount_usd": 1000.0, **r} for r in rows], opp.schema)
    lake.write(C.OPPORTUNITIES, pa.concat_tables([opp, extra]))


def _sub_schema(lake, month):
    """The snapshot's schema with dictionary columns decoded (so rows can be appended)."""
    schema = lake.read(C.SUBSCRIPTIONS, month=month).schema
    return pa.schema([pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type)
                               else f.type) for f in schema])


def test_rows_dated_after_the_cutoff_do_not_change_the_features(market, features, tmp_path):
    """Plant rows dated after the cut-off in every input: the features stay the same.

    The reference lake holds the one planted row that is legitimately known at the cut-off
    (an opportunity opened before it) as still open; the planted lake records its outcome,
    decided after the cut-off, plus rows of every table dated after it.
    """
    customer = _customers(features, 1)[0]
    reference = market.copy(tmp_path / "reference")
    _add_opportunities(reference, [_open_at_cutoff(customer)])
    build_features(reference, MONTH, "duckdb", labels=False)
    expected = reference.read("features", month=MONTH)

    lake = market.copy(tmp_path / "planted")
    _plant_after_cutoff(lake, customer)
    report = build_features(lake, MONTH, "duckdb", labels=False)
    assert report.quarantined == {}  # the planted rows are valid: only their dates exclude them
    assert_same_table(lake.read("features", month=MONTH), expected, rtol=0)
    # and the reference differs from the plain market only by that open opportunity
    row = expected.filter(pc.equal(expected["customer_id"], customer)).to_pylist()[0]
    old = features.filter(pc.equal(features["customer_id"], customer)).to_pylist()[0]
    assert row["wl_surface_open"] == old["wl_surface_open"] + 1
    assert row["wl_surface_days_since_last"] == 10
    assert row["wl_surface_wins"] == old["wl_surface_wins"]


def test_the_same_rows_before_the_cutoff_do_change_them(market, features, tmp_path):
    """The control for the test above: it would fail if the rows were not excluded by date."""
    lake = market.copy(tmp_path)
    customer = _customers(features, 1)[0]
    day = (_cut() - dt.timedelta(days=3)).date()
    append_signals(lake, MONTH, [signal_row(customer, "funding_round", str(day),
                                            f"{_cut() - dt.timedelta(hours=1)}")])
    build_features(lake, MONTH, "duckdb", labels=False)
    after = lake.read("features", month=MONTH).sort_by("customer_id")
    row = after.filter(pc.equal(after["customer_id"], customer)).to_pylist()[0]
    old = features.filter(pc.equal(features["customer_id"], customer)).to_pylist()[0]
    assert row["sig_funding_round_count_30d"] == old["sig_funding_round_count_30d"] + 1
    assert row["sig_funding_round_days_since_last"] == 3
    assert row["sig_funding_round_seen"] is True
    assert row["sigarea_azure_count_30d"] == old["sigarea_azure_count_30d"] + 1


def test_repeated_crawls_are_deduplicated(market, features, tmp_path):
    """Three crawls that repeat each other give the features of the last crawl alone."""
    lake = market.copy(tmp_path)
    for m in lake.months(C.SIGNALS):
        if m != MONTH:
            import shutil

            shutil.rmtree(lake.path(C.SIGNALS, m))
    report = build_features(lake, MONTH, "duckdb", labels=False)
    assert_same_table(lake.read("features", month=MONTH), features, rtol=0)
    crawl = lake.read(C.SIGNALS, month=MONTH)
    assert report.signals_used == crawl.num_rows  # every signal once
    earlier = sum(market.lake.read(C.SIGNALS, month=m).num_rows
                  for m in market.lake.months(C.SIGNALS) if m < MONTH)
    assert earlier > 0  # the full lake really had repeats to remove


def test_earliest_observation_wins(market, features, tmp_path):
    """A signal re-crawled with another confidence keeps its first observation."""
    lake = market.copy(tmp_path)
    t0 = features.to_pandas()
    customer = t0.loc[~t0["sig_device_refresh_seen"], "customer_id"].iloc[0]
    day = str((_cut() - dt.timedelta(days=40)).date())
    first = signal_row(customer, "device_refresh", day, f"{_cut() - dt.timedelta(days=31)}",
                       confidence=0.61, source="forum")
    again = dict(first, observed_at=_cut() - dt.timedelta(hours=1), confidence=0.99)
    append_signals(lake, before(MONTH), [first])
    append_signals(lake, MONTH, [again])
    build_features(lake, MONTH, "duckdb", labels=False)
    t = lake.read("features", month=MONTH)
    row = t.filter(pc.equal(t["customer_id"], customer)).to_pylist()[0]
    assert row["sig_device_refresh_count_90d"] == 1  # counted once, not twice
    assert row["sig_device_refresh_days_since_last"] == 40
    assert row["sig_device_refresh_max_confidence"] == pytest.approx(0.61)


def test_no_signal_seen_is_distinct_from_a_weak_signal(market, features, tmp_path):
    lake = market.copy(tmp_path)
    t = features.to_pandas()
    never = t[~t["sig_any_seen"]]
    assert len(never) > 0
    assert (never["sig_count_90d"] == 0).all()
    assert never["sig_funding_round_days_since_last"].isna().all()
    assert never["sig_funding_round_max_confidence"].isna().all()
    assert (~never["sig_funding_round_seen"]).all()
    # a single weak, old signal: seen, yet no count in any window
    quiet = never["customer_id"].iloc[0]
    day = str((_cut() - dt.timedelta(days=400)).date())
    append_signals(lake, MONTH, [signal_row(quiet, "funding_round", day,
                                            f"{_cut() - dt.timedelta(hours=1)}",
                                            confidence=0.2)])
    build_features(lake, MONTH, "duckdb", labels=False)
    t2 = lake.read("features", month=MONTH).to_pandas().set_index("customer_id")
    r = t2.loc[quiet]
    assert r["sig_any_seen"] and r["sig_funding_round_seen"]
    assert r["sig_funding_round_count_180d"] == 0 and r["sig_funding_round_trend"] == 0
    assert r["sig_funding_round_days_since_last"] == 400
    assert r["sig_funding_round_max_confidence"] == pytest.approx(0.2)


def test_one_row_per_customer_known_at_the_cutoff(built, features):
    lake, report = built
    comp = lake.read(C.COMPANIES).to_pandas()
    known = comp[pd.to_datetime(comp["created_at"]) < _cut()]
    assert features.num_rows == len(known) == report.rows
    assert features["customer_id"].to_pylist() == sorted(known["customer_id"])
    assert set(features["as_of"].to_pylist()) == {_cut().date()}
    assert features.schema.equals(features_contract().schema())
    assert report.columns == features.num_columns <= 500


def test_labels_match_the_oracle(built):
    lake, report = built
    assert report.labels_written
    table = lake.read("labels", month=MONTH)
    assert table.schema.equals(labels_contract().schema())
    labels = table.to_pandas()
    long = labels.melt(id_vars=["customer_id", "as_of"], var_name="product", value_name="y")
    mine = {(c, p.removeprefix("label_")) for c, p, y in
            long[["customer_id", "product", "y"]].itertuples(index=False) if y}
    oracle = purchase_labels(lake, MONTH)
    truth = set(oracle[["customer_id", "product"]].itertuples(index=False, name=None))
    assert len(truth) > 50
    assert mine == truth


def test_a_trial_is_not_a_purchase(built):
    """A trial that started in the window (and then expired) does not make a label; a paid
    subscription that started there does. Counted here from the snapshots, not from the
    definition under test."""
    lake, _ = built
    lo, hi = pd.Timestamp(_cut()), pd.Timestamp(_cut(add_months(MONTH, 3)))
    snaps = pd.concat([lake.read(C.SUBSCRIPTIONS, month=add_months(MONTH, i)).to_pandas()
                       for i in range(3)]).astype({"status": str, "product": str})
    snaps = snaps[(pd.to_datetime(snaps["start_date"]) >= lo)
                  & (pd.to_datetime(snaps["start_date"]) < hi)]
    statuses = snaps.groupby("subscription_id")["status"].agg(set)
    first = snaps.drop_duplicates("subscription_id").set_index("subscription_id")
    trials = first.loc[statuses[statuses.map(lambda s: "trial" in s)].index]
    paid = first.loc[statuses[statuses.map(lambda s: "active" in s)].index]
    opp = lake.read(C.OPPORTUNITIES).to_pandas()
    closed = pd.to_datetime(opp["closed_at"])
    won = opp[(opp["outcome"] == "won") & (closed >= lo) & (closed < hi)]
    bought = set(zip(paid["customer_id"], paid["product"], strict=True)) | set(
        zip(won["customer_id"], won["product"], strict=True))
    only_trial = set(zip(trials["customer_id"], trials["product"], strict=True)) - bought
    assert len(only_trial) >= 10
    labels = lake.read("labels", month=MONTH).to_pandas().set_index("customer_id")
    assert not any(labels.loc[c, f"label_{p}"] for c, p in only_trial)
    assert all(labels.loc[c, f"label_{p}"] for c, p in set(zip(
        paid["customer_id"], paid["product"], strict=True)))


def test_no_labels_for_months_without_a_complete_window(market, tmp_path):
    lake = market.copy(tmp_path)
    late = lake.months(C.SUBSCRIPTIONS)[-1]  # the window M..M+2 runs past the lake
    report = build_features(lake, late, "duckdb")
    assert report.rows > 0 and not report.labels_written
    assert "no labels" in report.labels_note and late in report.labels_note
    assert not lake.path("labels", late).exists()
    assert lake.path("features", late).exists()


def test_missing_snapshot_or_crawl_is_a_clear_error(market, tmp_path):
    lake = market.copy(tmp_path)
    first = lake.months(C.SUBSCRIPTIONS)[0]
    with pytest.raises(MissingInputError, match=f"subscription snapshot {before(first)}"):
        build_features(lake, first, "duckdb")
    import shutil

    shutil.rmtree(lake.path(C.SIGNALS))
    with pytest.raises(MissingInputError, match="no signals"):
        build_features(lake, MONTH, "duckdb")
    assert not lake.path("features").exists()


def test_a_failed_build_leaves_the_previous_table_in_place(market, tmp_path):
    lake = market.copy(tmp_path)
    build_features(lake, MONTH, "duckdb", labels=False)
    files = sorted(p.name for p in lake.path("features", MONTH).iterdir())
    before_bytes = (lake.path("features", MONTH) / files[0]).read_bytes()
    sub = lake.read(C.SUBSCRIPTIONS, month=before(MONTH)).drop(["seats_sold"])
    lake.write(C.SUBSCRIPTIONS, sub, month=before(MONTH), validate=False)
    with pytest.raises(C.ContractError):
        build_features(lake, MONTH, "duckdb", labels=False)
    assert sorted(p.name for p in lake.path("features", MONTH).iterdir()) == files
    assert (lake.path("features", MONTH) / files[0]).read_bytes() == before_bytes
    assert not [p for p in lake.path("features").iterdir() if p.name.startswith(".")]


def test_crawl_for_the_month_counts_whatever_day_it_ran(market, features, tmp_path):
    """The monthly job crawls on the 25th: that crawl is the web as of the month's cut-off."""
    lake = market.copy(tmp_path)
    t0 = features.to_pandas()
    fresh = t0.loc[~t0["sig_lowcode_initiative_seen"], "customer_id"].iloc[:2].tolist()
    ran = f"{(_cut() + dt.timedelta(days=24)).date()}T06:00:00"
    dated = str((_cut() - dt.timedelta(days=10)).date())
    append_signals(lake, MONTH, [
        signal_row(fresh[0], "lowcode_initiative", dated, ran, source="site"),
        signal_row(fresh[1], "lowcode_initiative", None, ran, source="site"),
    ])
    # the next month's crawl is never read for this month
    append_signals(lake, add_months(MONTH, 1), [
        signal_row(fresh[1], "lowcode_initiative", dated, ran, source="forum",
                   url="http://community.itprotalk.net/t/planted"),
    ])
    build_features(lake, MONTH, "duckdb", labels=False)
    t = lake.read("features", month=MONTH).to_pandas().set_index("customer_id")
    assert t.loc[fresh[0], "sig_lowcode_initiative_days_since_last"] == 10
    # undated: counted as observed just before the cut-off
    assert t.loc[fresh[1], "sig_lowcode_initiative_count_30d"] == 1
    assert t.loc[fresh[1], "sig_lowcode_initiative_n_sources"] == 1


def test_months_built_side_by_side_match_one_at_a_time(market, features, tmp_path):
    """Worker processes build the same tables as the in-process build, and a failing month
    is reported as an error, not lost."""
    from features.build import build_features_many

    lake = market.copy(tmp_path)
    months = ["2026-06", MONTH]
    seen: list[str] = []
    reports = build_features_many(lake, months, "duckdb", workers=2, progress=seen.append)
    assert list(reports) == months and sorted(seen) == months
    assert all(r.rows > 0 and r.labels_written for r in reports.values())
    assert_same_table(lake.read("features", month=MONTH).sort_by("customer_id"), features)
    first = lake.months(C.SUBSCRIPTIONS)[0]  # no snapshot before it: fails in its worker
    with pytest.raises(MissingInputError, match=f"subscription snapshot {before(first)}"):
        build_features_many(lake, [first, MONTH], "duckdb", workers=2)
