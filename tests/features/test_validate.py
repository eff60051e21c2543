"""Input validation: malformed tables are refused, bad rows are quarantined and reported."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from features import InputValidationError, Policy, build_features
from features.build import quarantine_path
from features.engines.duckdb import DuckDBEngine
from features.validate import REASON, validate_input
from propensity import contracts as C

from .conftest import MONTH, append_signals, before, signal_row


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded, so rows can be edited and appended."""
    return pa.table({n: (c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c)
                     for n, c in zip(table.column_names, table.columns, strict=True)})


def _edit(table: pa.Table, i: int, **values) -> pa.Table:
    """``table`` with row ``i`` replaced by itself updated with ``values``."""
    rows = table.to_pylist()
    rows[i] = {**rows[i], **values}
    return pa.Table.from_pylist(rows, schema=table.schema)


def test_a_missing_column_refuses_the_table(market, tmp_path):
    lake = market.copy(tmp_path)
    agr = lake.read(C.AGREEMENTS).drop(["end_date"])
    lake.write(C.AGREEMENTS, agr, validate=False)
    with pytest.raises(InputValidationError) as err:
        build_features(lake, MONTH, "duckdb")
    msg = str(err.value)
    assert "agreements" in msg and "end_date" in msg and "missing" in msg
    assert not lake.path("features", MONTH).exists()


def test_a_wrong_type_names_table_column_and_rows(market, tmp_path):
    lake = market.copy(tmp_path)
    snap = _decoded(lake.read(C.SUBSCRIPTIONS, month=before(MONTH)))
    i = snap.schema.get_field_index("seats_sold")
    snap = snap.set_column(i, "seats_sold", pc.cast(snap["seats_sold"], pa.string()))
    lake.write(C.SUBSCRIPTIONS, snap, month=before(MONTH), validate=False)
    with pytest.raises(InputValidationError) as err:
        build_features(lake, MONTH, "duckdb")
    msg = str(err.value)
    assert "table subscriptions" in msg and "'seats_sold'" in msg and "string" in msg
    first_id = snap["subscription_id"][0].as_py()
    assert "e.g. rows" in msg and "SUB-" in msg, msg
    assert first_id.startswith("SUB-")
    assert not lake.path("features", MONTH).exists()


def test_bad_rows_are_quarantined_counted_and_reported(market, features, tmp_path):
    lake = market.copy(tmp_path)
    snap = _decoded(lake.read(C.SUBSCRIPTIONS, month=before(MONTH)))
    ids = snap["subscription_id"].to_pylist()
    start = snap["start_date"][3].as_py()
    snap = _edit(snap, 0, seats_sold=-5)
    snap = _edit(snap, 1, product="sharepoint")
    snap = _edit(snap, 2, status="cancelled")
    snap = _edit(snap, 3, end_date=start - dt.timedelta(days=1))
    dup = snap.slice(4, 1)  # the same subscription twice: neither copy can be trusted
    snap = pa.concat_tables([snap, dup])
    lake.write(C.SUBSCRIPTIONS, snap, month=before(MONTH), validate=False)
    opp = lake.read(C.OPPORTUNITIES)
    opp = _edit(opp, 0, product="not_a_product")
    lake.write(C.OPPORTUNITIES, opp, validate=False)
    comp = lake.read(C.COMPANIES)
    gone = comp["customer_id"][7].as_py()
    comp = _edit(comp, 7, employees=-3)
    lake.write(C.COMPANIES, comp, validate=False)
    someone = features["customer_id"][0].as_py()
    now = str(dt.datetime(2026, 6, 30, 23))
    append_signals(lake, MONTH, [
        signal_row(someone, "funding_round", "2026-06-01", now, confidence=1.5),
        signal_row(someone, "fusion_power", "2026-06-01", now),
    ])

    report = build_features(lake, MONTH, "duckdb")
    q = report.quarantined
    assert q["subscriptions"] == {"negative seats_sold": 1, "unknown product": 1,
                                  "unknown status": 1, "end before start": 1,
                                  "duplicate subscription_id": 2}
    assert q["opportunities"] == {"unknown product": 1}
    assert q["companies"] == {"negative employees": 1}
    assert q["signals"] == {"confidence outside [0, 1]": 1, "unknown topic": 1}
    assert "agreements" not in q
    # written aside with their reason, never silently dropped
    subs_q = lake.read(f"quarantine/{C.SUBSCRIPTIONS.name}", month=MONTH)
    assert subs_q.num_rows == 6 and REASON in subs_q.column_names
    assert set(subs_q["subscription_id"].to_pylist()) == {ids[0], ids[1], ids[2], ids[3], ids[4]}
    assert report.quarantine_paths["signals"] == quarantine_path(lake, "signals", MONTH)
    assert (quarantine_path(lake, "signals", MONTH) / "part-0.parquet").exists()
    # the rest of the table was used; the quarantined company has no feature row
    t = lake.read("features", month=MONTH)
    assert gone not in t["customer_id"].to_pylist()
    assert t.num_rows == features.num_rows - 1
    row = t.filter(pc.equal(t["customer_id"], someone)).to_pylist()[0]
    old = features.filter(pc.equal(features["customer_id"], someone)).to_pylist()[0]
    assert row["sig_funding_round_count_90d"] == old["sig_funding_round_count_90d"]

    # a rerun on repaired inputs clears the quarantine of the month
    lake.write(C.COMPANIES, market.lake.read(C.COMPANIES))
    report = build_features(lake, MONTH, "duckdb", labels=False)
    assert "companies" not in report.quarantined
    assert not quarantine_path(lake, "companies", MONTH).exists()
    assert quarantine_path(lake, "subscriptions", MONTH).exists()


def test_too_many_bad_rows_refuse_the_table(market, tmp_path):
    lake = market.copy(tmp_path)
    opp = lake.read(C.OPPORTUNITIES)
    n = opp.num_rows
    bad = pc.if_else(pa.array([i % 10 == 0 for i in range(n)]), "sharepoint", opp["product"])
    opp = opp.set_column(opp.schema.get_field_index("product"), "product", bad)
    lake.write(C.OPPORTUNITIES, opp, validate=False)
    with pytest.raises(InputValidationError) as err:
        build_features(lake, MONTH, "duckdb")
    msg = str(err.value)
    assert "table opportunities" in msg and "'product'" in msg and "unknown product" in msg
    assert "sharepoint" in msg and "OPP-" in msg  # example rows
    assert not lake.path("features", MONTH).exists()
    # a looser policy accepts the table and quarantines the rows instead
    report = build_features(lake, MONTH, "duckdb", labels=False,
                            policy=Policy(max_quarantine_share=0.2))
    assert report.quarantined["opportunities"]["unknown product"] == (n + 9) // 10


def test_nulls_in_required_columns_are_quarantined(tmp_path):
    engine = DuckDBEngine(memory_limit="1GB")
    try:
        rows = pa.table({
            "agreement_id": ["A1", "A2", "A3", "A3"],
            "customer_id": ["C1", None, "C3", "C3"],
            "program": ["EA"] * 4,
            "start_date": [dt.date(2025, 1, 1)] * 4,
            "end_date": [dt.date(2026, 1, 1)] * 4,
            "revenue_division": ["Azure"] * 4,
            "due_revenue_usd": [1.0, 2.0, 3.0, 3.0],
        })
        import pyarrow.parquet as pq

        pq.write_table(rows, tmp_path / "part-0.parquet")
        table = engine.read([tmp_path], "agr")
        checked = validate_input(engine, table, C.AGREEMENTS, "test",
                                 policy=Policy(max_quarantine_share=1.0))
        assert checked.rows == 4
        assert checked.counts == {"null customer_id": 1, "duplicate agreement_id": 2}
        clean = engine.to_arrow(checked.clean)
        assert clean["agreement_id"].to_pylist() == ["A1"]
    finally:
        engine.close()
