"""The scale-out engine: the same Ibis definitions compiled to Spark SQL (PySpark).

Local mode (``local[2]``) in tests and on one machine; on a cluster pass a session built for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

#: Session settings the definitions rely on: UTC, and month=YYYY-MM partitions kept as text.
REQUIRED_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}


def local_session(memory: str = "2g", cores: int = 2, app: str = "propensity-features") -> Any:
    """A local-mode SparkSession sized for one machine (or for tests)."""
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(f"local[{cores}]").appName(app)
               .config("spark.driver.memory", memory)
               .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.adaptive.enabled", "true"))
    for k, v in REQUIRED_CONF.items():
        builder = builder.config(k, v)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Runs the definitions on a SparkSession (a new local one unless ``session`` is given)."""

    name = "spark"
    _ids = itertools.count()

    def __init__(self, session: Any = None, memory: str = "2g", cores: int = 2) -> None:
        self._own = session is None
        self.session = session if session is not None else local_session(memory, cores)
        for k, v in REQUIRED_CONF.items():
            self.session.conf.set(k, v)
        self.con = ibis.pyspark.connect(self.session)
        self._cached: list[Any] = []

    def _view(self, df: Any, name: str) -> ir.Table:
        view = f"{name}_{next(self._ids)}"
        df.createOrReplaceTempView(view)
        return self.con.table(view)

    def read(self, folders: Sequence[Path], name: str, partitioned: bool = False) -> ir.Table:
        paths = [str(f) for f in folders]
        if not paths:
            raise FileNotFoundError(f"no folders to read for {name}")
        reader = self.session.read
        if partitioned:
            # the parent of the month=... folders, so Spark adds the month column
            reader = reader.option("basePath", str(Path(paths[0]).parent))
        return self._view(reader.parquet(*paths), name)

    def _df(self, expr: ir.Table) -> Any:
        return self.session.sql(self.con.compile(expr))

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        schema = expr.schema().to_pyarrow()
        table = self._df(expr).toArrow()
        return table.rename_columns(schema.names).cast(schema)

    def to_batches(self, expr: ir.Table, rows: int = 100_000) -> Iterator[pa.Table]:
        table = self.to_arrow(expr)
        for batch in table.to_batches(max_chunksize=rows):
            yield pa.Table.from_batches([batch], schema=table.schema)

    def materialize(self, expr: ir.Table, name: str) -> ir.Table:
        df = self._df(expr).cache()
        df.count()
        self._cached.append(df)
        return self._view(df, name)

    def close(self) -> None:
        for df in self._cached:
            df.unpersist()
        self._cached.clear()
        if self._own:
            self.session.stop()
