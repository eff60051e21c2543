"""One definition, two engines: Spark (local mode) gives the DuckDB results on the sandbox."""

from __future__ import annotations

import pytest

from features import build_features
from features.engines import get_engine
from features.engines.spark import SparkEngine

from .conftest import MONTH, assert_same_table


def test_spark_and_duckdb_build_identical_tables(market, built, spark_session, tmp_path):
    duck_lake, duck = built
    lake = market.copy(tmp_path)
    engine = SparkEngine(session=spark_session)
    spark = build_features(lake, MONTH, engine)
    assert spark.engine == "spark" and duck.engine == "duckdb"
    assert spark.rows == duck.rows > 1000
    assert (spark.signals_used, spark.signals_unresolved) == (duck.signals_used,
                                                               duck.signals_unresolved)
    for table in ("features", "labels"):
        # floats within 1e-9 (sums may add in another order); ints, strings, dates exact
        assert_same_table(lake.read(table, month=MONTH), duck_lake.read(table, month=MONTH))
    engine.close()  # a session it was given stays up for the other tests
    assert not spark_session.sparkContext._jsc.sc().isStopped()


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="unknown engine 'polars'"):
        get_engine("polars")
