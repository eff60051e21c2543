"""The spine: settings from TOML and environment, months, lake atomicity, contracts."""

from __future__ import annotations

import pyarrow as pa
import pytest

from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months, cutoff, month_range, parse_month
from propensity.settings import load_settings


def test_settings_defaults_toml_and_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for k in list(__import__("os").environ):
        if k.startswith("PROPENSITY_"):
            monkeypatch.delenv(k)
    s = load_settings()
    assert str(s.lake) == "lake" and s.products == C.PRODUCTS and s.sandbox.companies == 5000
    (tmp_path / "propensity.toml").write_text(
        'lake = "/data/lake"\nproducts = ["azure", "m365"]\n[sandbox]\ncompanies = 900\n'
        '[sandbox.faults]\nserver_error = 0.3\n'
    )
    s = load_settings()
    assert str(s.lake) == "/data/lake" and s.products == ("azure", "m365")
    assert s.sandbox.companies == 900 and s.sandbox.faults.server_error == 0.3
    monkeypatch.setenv("PROPENSITY_LAKE", "/env/lake")
    monkeypatch.setenv("PROPENSITY_SANDBOX__COMPANIES", "123")
    s = load_settings()
    assert str(s.lake) == "/env/lake" and s.sandbox.companies == 123
    assert s.sandbox.faults.server_error == 0.3  # untouched nested values survive
    assert str(load_settings(lake=tmp_path / "cli").lake).endswith("cli")  # flags win


def test_settings_reject_bad_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="unknown product 'azur'"):
        load_settings(products="azur,m365")
    monkeypatch.setenv("PROPENSITY_SANDBOX__END_MONTH", "2026-13")
    with pytest.raises(ValueError, match="YYYY-MM"):
        load_settings()
    monkeypatch.setenv("PROPENSITY_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(FileNotFoundError, match="missing.toml"):
        load_settings()


def test_months():
    assert add_months("2026-11", 2) == "2027-01" and add_months("2026-01", -1) == "2025-12"
    assert month_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert cutoff("2026-03").isoformat() == "2026-03-01T00:00:00"
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month("2026-3")


def test_lake_write_is_atomic_and_keeps_the_old_table_on_failure(tmp_path):
    lake = Lake(tmp_path)
    good = pa.table({"global_id": ["1"], "partner_name": ["A"], "country": ["US"]})
    lake.write(C.PARTNERS, good)
    assert lake.read(C.PARTNERS).equals(good)

    def parts():
        yield good
        raise RuntimeError("killed half-way")

    with pytest.raises(RuntimeError):
        lake.write(C.PARTNERS, parts())
    assert lake.read(C.PARTNERS).equals(good)  # the last good table is untouched
    assert [p.name for p in tmp_path.joinpath("raw").iterdir()] == ["partners"]  # no debris
    bad = pa.table({"global_id": ["1"], "partner_name": [None], "country": ["US"]},
                   schema=pa.schema([("global_id", pa.string()), ("partner_name", pa.string()),
                                     ("country", pa.string())]))
    with pytest.raises(C.ContractError, match="partners.*'partner_name'.*null.*rows \\[0\\]"):
        lake.write(C.PARTNERS, bad)
    lake.write(C.SUBSCRIPTIONS.path, good, month="2026-01", validate=False)
    assert lake.months(C.SUBSCRIPTIONS) == ["2026-01"]


def test_topics_contract():
    assert len(C.TOPIC_IDS) == len(set(C.TOPIC_IDS))
    for t in C.TOPICS:
        assert t.product_areas and set(t.product_areas) <= set(C.PRODUCTS)
    assert set(C.EVENT_TOPICS) | set(C.TECH_TOPICS) == set(C.TOPIC_IDS)
    assert C.parse_products("azure, m365") == ("azure", "m365")
