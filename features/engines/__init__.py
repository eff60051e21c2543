"""Engines that execute the Ibis definitions: DuckDB (embedded default) and Apache Spark.

An engine only knows how to open Parquet folders of the lake as Ibis tables and how to turn an
Ibis expression into Arrow; the definitions never know which engine runs them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import ibis.expr.types as ir
import pyarrow as pa

ENGINES: tuple[str, ...] = ("duckdb", "spark")


@runtime_checkable
class Engine(Protocol):
    """What the builder needs from an engine."""

    name: str

    def read(self, folders: Sequence[Path], name: str, partitioned: bool = False) -> ir.Table:
        """Open Parquet folders as one table; ``partitioned`` adds the ``month`` column
        from ``month=YYYY-MM`` folder names (``folders`` are then those partition folders)."""
        ...

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Execute ``expr`` and return the whole result."""
        ...

    def to_batches(self, expr: ir.Table, rows: int = 100_000) -> Iterator[pa.Table]:
        """Execute ``expr`` and stream the result in tables of at most ``rows`` rows."""
        ...

    def materialize(self, expr: ir.Table, name: str) -> ir.Table:
        """Compute ``expr`` once and return a table that reads the result (for reuse)."""
        ...

    def close(self) -> None:
        """Release what the engine opened (not a session it was given)."""
        ...


def get_engine(name: str, **options: object) -> Engine:
    """An engine by name (``duckdb`` or ``spark``); ``options`` go to its constructor."""
    if name == "duckdb":
        from features.engines.duckdb import DuckDBEngine

        return DuckDBEngine(**options)  # type: ignore[arg-type]
    if name == "spark":
        from features.engines.spark import SparkEngine

        return SparkEngine(**options)  # type: ignore[arg-type]
    raise ValueError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
