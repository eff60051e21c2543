"""The embedded default engine: Ibis over an in-process DuckDB that reads Parquet in place."""

from __future__ import annotations

import contextlib
import itertools
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa


class DuckDBEngine:
    """Runs the definitions on DuckDB with bounded memory (it spills to ``temp_directory``)."""

    name = "duckdb"
    _ids = itertools.count()

    def __init__(self, memory_limit: str = "5GB", threads: int | None = None,
                 temp_directory: str | Path | None = None) -> None:
        self._tmp = None
        if temp_directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="features-duckdb-")
            temp_directory = self._tmp.name
        config: dict[str, object] = {"memory_limit": memory_limit,
                                     "temp_directory": str(temp_directory),
                                     "preserve_insertion_order": False}
        if threads:
            config["threads"] = threads
        self.con = ibis.duckdb.connect(**config)
        self.con.con.execute("SET enable_progress_bar = false")

    def read(self, folders: Sequence[Path], name: str, partitioned: bool = False) -> ir.Table:
        files = [str(Path(f) / "*.parquet") for f in folders]
        if not files:
            raise FileNotFoundError(f"no folders to read for {name}")
        with _quiet():
            return self.con.read_parquet(files, table_name=name,
                                         hive_partitioning=partitioned, union_by_name=True)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        schema = expr.schema().to_pyarrow()
        table = self.con.con.sql(self.con.compile(expr)).to_arrow_table()
        return table.rename_columns(schema.names).cast(schema)

    def to_batches(self, expr: ir.Table, rows: int = 100_000) -> Iterator[pa.Table]:
        # streamed straight from DuckDB (Ibis 12's batch reader predates the duckdb 2 API)
        schema = expr.schema().to_pyarrow()
        # the connection itself, not a cursor: temporary tables are per connection
        reader = self.con.con.sql(self.con.compile(expr)).to_arrow_reader(rows)
        for batch in reader:
            table = pa.Table.from_batches([batch])
            yield table.rename_columns(schema.names).cast(schema)

    def materialize(self, expr: ir.Table, name: str) -> ir.Table:
        with _quiet():
            return self.con.create_table(f"{name}_{next(self._ids)}", expr, temp=True)

    def close(self) -> None:
        self.con.disconnect()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None



@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence Ibis 12's use of an API that duckdb 2 deprecates (fetch_arrow_table)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*fetch_arrow_table",
                                category=DeprecationWarning)
        yield
