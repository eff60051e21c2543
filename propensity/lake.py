"""The lake: one root folder of Parquet tables, monthly tables partitioned ``month=YYYY-MM``.

Writes are atomic at the folder level: a table (or one month of it) is written into a
hidden temporary folder beside its destination and renamed into place, so a reader sees the
old folder or the new one, never half of either.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from propensity.contracts import TableContract
from propensity.months import parse_month


class Lake:
    """Paths and atomic Parquet I/O under one lake root."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    def path(self, contract: TableContract | str, month: str | None = None) -> Path:
        """Folder of a table, or of one month of a monthly table."""
        rel = contract.path if isinstance(contract, TableContract) else contract
        p = self.root / rel
        if month is not None:
            parse_month(month)
            p = p / f"month={month}"
        return p

    def months(self, contract: TableContract | str) -> list[str]:
        """Months present for a monthly table, sorted."""
        base = self.path(contract)
        if not base.is_dir():
            return []
        return sorted(
            d.name.split("=", 1)[1]
            for d in base.iterdir()
            if d.is_dir() and d.name.startswith("month=")
        )

    def write(
        self,
        contract: TableContract | str,
        table: pa.Table | Iterable[pa.Table],
        month: str | None = None,
        validate: bool = True,
        check_key: bool = True,
        row_group_size: int = 1_000_000,
    ) -> Path:
        """Atomically replace a table (or a month of it) with ``table``.

        ``table`` may be an iterable of Arrow tables with one schema, written as one file in
        batches so memory stays bounded. Returns the destination folder.
        """
        dest = self.path(contract, month)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".tmp-{dest.name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            parts = [table] if isinstance(table, pa.Table) else table
            writer: pq.ParquetWriter | None = None
            for part in parts:
                if validate and isinstance(contract, TableContract):
                    contract.validate(part, where=str(dest), check_key=check_key)
                if writer is None:
                    writer = pq.ParquetWriter(
                        tmp / "part-0.parquet", part.schema, compression="zstd"
                    )
                writer.write_table(part, row_group_size=row_group_size)
            if writer is None:
                raise ValueError(f"nothing to write to {dest}")
            writer.close()
            replace_dir(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return dest

    def read(
        self,
        contract: TableContract | str,
        month: str | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """Read a table, or one month of a monthly table, as Arrow.

        For a monthly table read without ``month``, every month is read and a ``month``
        column is added.
        """
        monthly = isinstance(contract, TableContract) and contract.monthly
        if monthly and month is None:
            parts = []
            for m in self.months(contract):
                t = pq.read_table(self.path(contract, m), columns=columns)
                parts.append(t.append_column("month", pa.array([m] * t.num_rows, pa.string())))
            if not parts:
                raise FileNotFoundError(f"no months of {contract.name} under {self.path(contract)}")
            return pa.concat_tables(parts)
        p = self.path(contract, month)
        if not p.exists():
            name = contract.name if isinstance(contract, TableContract) else contract
            raise FileNotFoundError(f"table {name} not found at {p}")
        return pq.read_table(p, columns=columns)


def replace_dir(src: Path, dest: Path) -> None:
    """Move folder ``src`` to ``dest``, replacing ``dest`` with two renames.

    The old folder is renamed aside first and removed only after the new one is in place,
    so at every instant ``dest`` is either the old, complete folder or the new one.
    """
    if dest.exists():
        old = dest.parent / f".old-{dest.name}-{uuid.uuid4().hex[:8]}"
        os.replace(dest, old)
        os.replace(src, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dest)
