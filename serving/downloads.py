"""Report downloads: chosen columns, filters and sort over a published report, as CSV or Parquet.

A request that asks for the whole report in its published order is answered with the
published file itself. Anything else reads the report's Parquet (only the needed columns),
filters and sorts it with Arrow, and writes CSV in row batches as the client reads, so a
large download starts at once and memory stays bounded by the filtered table.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from propensity import contracts as C
from serving.errors import bad_request

log = logging.getLogger(__name__)
Format = Literal["csv", "parquet"]
BOM = "\ufeff".encode()
#: A text cell starting with one of these is read as a formula by spreadsheets: prefix "'".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_BATCH_ROWS = 16_384


class Filters(BaseModel):
    """Row filters of a download. Every filter given must hold (AND); inside a list, any value
    matches (OR). Text matches ignore case."""

    model_config = ConfigDict(extra="forbid")

    clusters: list[str] | None = Field(None, description="keep rows whose cluster for one of "
                                       "the report's products is one of these (Act now, "
                                       "Evaluate, Nurture, Educate, Not eligible)")
    subsegments: list[str] | None = Field(None, description="SubSegment: Very small, Medium, "
                                          "Upper medium")
    org_sizes: list[str] | None = Field(None, description="OrgSize values")
    industries: list[str] | None = Field(None, description="Industry values")
    verticals: list[str] | None = Field(None, description="Vertical values")
    countries: list[str] | None = Field(None, description="Country values")
    states: list[str] | None = Field(None, description="State values")
    min_fit: int | None = Field(None, ge=0, le=100, description="keep rows with a fit score "
                                "at least this for one of the report's products")
    min_intent: int | None = Field(None, ge=0, le=100, description="keep rows with an intent "
                                   "score at least this for one of the report's products")
    cohorts: list[str] | None = Field(None, description="Yes/No columns of the report (cohorts, "
                                      "HasEA, HasAWS...) that must all be Yes")

    def is_empty(self) -> bool:
        return all(v is None for v in self.model_dump().values())


TEXT_FILTERS: dict[str, str] = {
    "subsegments": "SubSegment", "org_sizes": "OrgSize", "industries": "Industry",
    "verticals": "Vertical", "countries": "Country", "states": "State",
}


def product_columns(report: str, suffix: str) -> list[str]:
    """``<Area><suffix>`` of each product the report shows (e.g. its cluster columns)."""
    return [f"{C.AREAS[p]}{suffix}" for p in C.REPORT_SPECS[report].products]


def check_columns(report: str, columns: list[str] | None) -> list[str]:
    """The columns to return, in the order asked; 400 naming any unknown column."""
    known = C.report_columns(report)
    if columns is None or len(columns) == 0:
        return known
    seen: set[str] = set()
    out = []
    for c in columns:
        if not isinstance(c, str) or not c:
            raise bad_request("columns must be non-empty column names")
        if c not in seen:
            seen.add(c)
            out.append(c)
    unknown = [c for c in out if c not in set(known)]
    if unknown:
        raise bad_request(f"unknown column(s) {unknown} for report {report!r}", known=known)
    return out


def _ci_in(col: pa.ChunkedArray, values: list[str]) -> pa.ChunkedArray:
    lowered = pa.array(sorted({v.strip().lower() for v in values}), pa.string())
    return pc.is_in(pc.utf8_lower(pc.cast(col, pa.string())), value_set=lowered)


def _canonical(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    lookup = {a.lower(): a for a in allowed}
    bad = [v for v in values if not isinstance(v, str) or v.strip().lower() not in lookup]
    if bad:
        raise bad_request(f"unknown {what} {bad}; known: {list(allowed)}")
    return [lookup[v.strip().lower()] for v in values]


def _or(masks: list[pa.ChunkedArray]) -> pa.ChunkedArray:
    out = masks[0]
    for m in masks[1:]:
        out = pc.or_(out, m)
    return out


def filter_mask(table: pa.Table, report: str, f: Filters) -> pa.ChunkedArray | None:
    """The boolean row mask of ``f`` over ``table`` (None when nothing filters)."""
    masks: list[pa.ChunkedArray] = []
    for name, value in ((k, getattr(f, k)) for k in type(f).model_fields):
        if value is None:
            continue
        if isinstance(value, list) and not value:
            raise bad_request(f"filter {name!r} is an empty list: leave it out to keep every row")
        if name == "clusters":
            vals = _canonical(value, (*C.CLUSTERS, C.NOT_ELIGIBLE), "cluster(s)")
            cols = product_columns(report, "Cluster")
            masks.append(_or([pc.fill_null(_ci_in(table[c], vals), False) for c in cols]))
        elif name == "subsegments":
            vals = _canonical(value, C.SUBSEGMENTS, "subsegment(s)")
            masks.append(pc.fill_null(_ci_in(table["SubSegment"], vals), False))
        elif name in TEXT_FILTERS:
            if any(not isinstance(v, str) or not v.strip() for v in value):
                raise bad_request(f"filter {name!r} needs non-empty text values")
            masks.append(pc.fill_null(_ci_in(table[TEXT_FILTERS[name]], value), False))
        elif name in ("min_fit", "min_intent"):
            cols = product_columns(report, "Fit" if name == "min_fit" else "Intent")
            masks.append(_or([pc.fill_null(pc.greater_equal(table[c], value), False)
                              for c in cols]))
        elif name == "cohorts":
            flags = C.report_flag_columns(report)
            unknown = [v for v in value if v not in flags]
            if unknown:
                raise bad_request(f"unknown cohort flag(s) {unknown} for report {report!r}",
                                  known=flags)
            for c in value:
                masks.append(pc.fill_null(pc.equal(pc.cast(table[c], pa.string()), "Yes"),
                                          False))
    if not masks:
        return None
    out = masks[0]
    for m in masks[1:]:
        out = pc.and_(out, m)
    return out


def needed_columns(report: str, f: Filters, columns: list[str], sort: str) -> list[str]:
    need = list(columns)
    extra: list[str] = []
    if f.clusters:
        extra += product_columns(report, "Cluster")
    if f.min_fit is not None:
        extra += product_columns(report, "Fit")
    if f.min_intent is not None:
        extra += product_columns(report, "Intent")
    for k, col in TEXT_FILTERS.items():
        if getattr(f, k):
            extra.append(col)
    extra += list(f.cohorts or [])
    extra += [sort, "CustomerID"]
    return need + [c for c in dict.fromkeys(extra) if c not in need]


ROW = "__row__"


def query(path: Path, report: str, columns: list[str], f: Filters, sort: str,
          descending: bool, limit: int | None, positions_only: bool = False) -> pa.Table:
    """Read, filter, sort and cut one report Parquet file.

    Returns ``columns`` plus a last column ``__row__``: each row's position in the published
    file, so the same rows can be cut from the published CSV (see :func:`published_csv`).
    With ``positions_only`` only ``__row__`` is returned, and only the columns that filter
    and sort are read.
    """
    flags = C.report_flag_columns(report)
    unknown = [v for v in f.cohorts or [] if v not in flags]
    if unknown:
        raise bad_request(f"unknown cohort flag(s) {unknown} for report {report!r}", known=flags)
    need = needed_columns(report, f, [] if positions_only else columns, sort)
    schema = pq.read_schema(path)
    absent = [c for c in columns if c not in schema.names]
    if absent:
        raise bad_request(f"column(s) {absent} are not in the published {report!r} report of "
                          "this month")
    missing = [c for c in need if c not in schema.names]
    if missing:  # the file predates a contract column: say so rather than fail
        raise bad_request(f"column(s) {missing} are not in the published {report!r} report of "
                          "this month")
    table = pq.read_table(path, columns=need)
    table = table.append_column(ROW, pa.array(range(table.num_rows), pa.int64()))
    mask = filter_mask(table, report, f)
    if mask is not None:
        table = table.filter(mask)
    order = "descending" if descending else "ascending"
    keys = [(sort, order, "at_end")]
    if sort != "CustomerID":
        keys.append(("CustomerID", "ascending", "at_end"))
    table = table.sort_by(keys)
    if limit is not None:
        table = table.slice(0, limit)
    return table.select([ROW] if positions_only else [*columns, ROW])


#: Bytes of published CSV cells (about the size of the files) kept in memory.
CSV_CACHE_BYTES = 768 << 20
#: A report CSV this large or larger is read into the cache when its month is published
#: (a smaller one is quick to read on its first download), largest first, up to
#: :data:`WARM_BYTES` in all.
WARM_MIN_BYTES = 8 << 20
WARM_BYTES = CSV_CACHE_BYTES // 2


class _CellCache:
    """Published CSVs as quoted text cells, by file identity: least recently used out past
    ``budget`` bytes; one read per file at a time (a second caller waits for the first)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.entries: OrderedDict[tuple, pa.Table] = OrderedDict()
        self.nbytes = 0
        self._lock = threading.Lock()
        self._loading: dict[tuple, threading.Event] = {}

    def get(self, key: tuple, load: Callable[[], pa.Table]) -> pa.Table:
        while True:
            with self._lock:
                hit = self.entries.get(key)
                if hit is not None:
                    self.entries.move_to_end(key)
                    return hit
                ev = self._loading.get(key)
                owner = ev is None
                if owner:
                    ev = self._loading[key] = threading.Event()
            if not owner:
                assert ev is not None
                ev.wait(300)
                continue
            try:
                table = load()
                self._put(key, table)
                return table
            finally:
                with self._lock:
                    self._loading.pop(key, None)
                assert ev is not None
                ev.set()

    def _put(self, key: tuple, table: pa.Table) -> None:
        size = table.nbytes
        with self._lock:
            # an older version of the same file (re-published) is not read again
            for old in [k for k in self.entries if k[0] == key[0] and k != key]:
                self.nbytes -= self.entries.pop(old).nbytes
            if size > self.budget:
                return
            while self.entries and self.nbytes + size > self.budget:
                self.nbytes -= self.entries.popitem(last=False)[1].nbytes
            self.entries[key] = table
            self.nbytes += size

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            return key in self.entries

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.nbytes = 0


_CELLS = _CellCache(CSV_CACHE_BYTES)


def _file_key(path: Path) -> tuple:
    st = os.stat(path)
    return (str(path), st.st_ino, st.st_mtime_ns, st.st_size)


def is_cached(path: Path) -> bool:
    """Whether the published CSV at ``path`` (this version of it) is in the cache."""
    try:
        return _file_key(path) in _CELLS
    except FileNotFoundError:
        return False


def published_csv(path: Path) -> pa.Table:
    """The published CSV as text cells (every column a string, exactly as written, quoted
    as CSV needs), cached by file identity: the filtered CSV reuses the publisher's
    formatting cell for cell."""
    key = _file_key(path)
    return _CELLS.get(key, lambda: _read_cells(path))


def _read_cells(path: Path) -> pa.Table:
    with open(path, "rb") as fh:
        header = fh.readline().decode("utf-8-sig").rstrip("\r\n")
    names = next(csv.reader([header]))
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding="utf8"),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False,
            quoted_strings_can_be_null=False),
    )
    if table.column_names and table.column_names[0].startswith("\ufeff"):
        table = table.rename_columns([table.column_names[0][1:], *table.column_names[1:]])
    # quoted once here, so a download only picks and joins cells
    return pa.table([_quote(table[c]) for c in table.column_names], names=table.column_names)


def warm_published(paths: Iterable[Path], budget: int | None = None,
                   min_bytes: int | None = None) -> list[Path]:
    """Read the published CSVs among ``paths`` of at least ``min_bytes`` into the cache,
    largest first, up to ``budget`` bytes of files in all; returns those read (or found
    there already). A file that vanishes meanwhile (a folder swap) is skipped."""
    budget = WARM_BYTES if budget is None else budget
    min_bytes = WARM_MIN_BYTES if min_bytes is None else min_bytes
    sized = []
    for p in paths:
        try:
            size = os.stat(p).st_size
        except FileNotFoundError:
            continue
        if size >= min_bytes:
            sized.append((size, str(p), Path(p)))
    done: list[Path] = []
    used = 0
    for size, _, p in sorted(sized, reverse=True):
        if used + size > budget:
            continue
        try:
            published_csv(p)
        except (OSError, pa.ArrowInvalid) as exc:
            log.info("not warming %s: %s", p, exc)
            continue
        used += size
        done.append(p)
    return done


def _may_need_quotes(col: pa.ChunkedArray | pa.Array) -> bool:
    """False when no cell can hold a comma, quote or line break: the column's character
    data has none (a quick scan of its buffers, no per-cell work)."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    for ch in chunks:
        bufs = ch.buffers()
        data = bufs[2] if len(bufs) > 2 else None
        if data is None:
            continue
        raw = data.to_pybytes()
        if b"," in raw or b'"' in raw or b"\n" in raw or b"\r" in raw:
            return True
    return False


def _quote(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """CSV minimal quoting (as Python's csv and pandas do): quote a cell only when it holds
    a comma, a quote or a line break, doubling its quotes."""
    col = pc.fill_null(pc.cast(col, pa.string()), "")
    if not _may_need_quotes(col):
        return col
    needs = pc.match_substring_regex(col, r'[,"\r\n]')
    if not pc.any(needs).as_py():
        return col
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, col)


def csv_lines(table: pa.Table, eol: str = "\r\n", quoted: bool = False) -> bytes:
    """Rows of a table of text cells as CSV lines (minimal quoting, ``eol`` after each);
    ``quoted`` says the cells are quoted already."""
    if table.num_rows == 0:
        return b""
    cols = [table[c] if quoted else _quote(table[c]) for c in table.column_names]
    rows = pc.binary_join_element_wise(*cols, ",") if len(cols) > 1 else cols[0]
    rows = pc.binary_join_element_wise(rows, pa.scalar(""), eol)
    arr = rows.combine_chunks() if isinstance(rows, pa.ChunkedArray) else rows
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset:arr.offset + len(arr) + 1]
    # the rows are contiguous in the data buffer: one copy, no per-row Python
    return arr.buffers()[2].to_pybytes()[int(offsets[0]):int(offsets[-1])]


def iter_published_csv(csv_path: Path, rows: pa.Array, columns: list[str], expected_rows: int,
                       batch_rows: int = CSV_BATCH_ROWS) -> Iterator[bytes] | None:
    """The chosen rows and columns of the published CSV, in ``rows`` order, as a byte
    stream with the BOM and the header; ``None`` if the CSV does not line up with the
    Parquet file (then the caller writes the CSV itself)."""
    text = published_csv(csv_path)
    if text.num_rows != expected_rows or any(c not in text.column_names for c in columns):
        return None
    picked = text.select(columns).take(rows)
    header = csv_lines(pa.table({c: [c] for c in columns}))

    def gen() -> Iterator[bytes]:
        yield BOM + header
        for start in range(0, picked.num_rows, batch_rows):
            yield csv_lines(picked.slice(start, batch_rows), quoted=True)

    return gen()


def neutralise(table: pa.Table) -> pa.Table:
    """Text cells a spreadsheet would run as a formula get a leading ``'`` (CSV injection);
    list cells are joined with ``; `` (CSV has no lists)."""
    cols = []
    for name in table.column_names:
        col = table[name]
        if pa.types.is_dictionary(col.type):
            col = pc.cast(col, col.type.value_type)
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            col = pc.binary_join(pc.cast(col, pa.list_(pa.string())), "; ")
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = pc.cast(col, pa.string())
            starts = _or([pc.fill_null(pc.starts_with(col, s), False) for s in FORMULA_START])
            col = pc.if_else(starts, pc.binary_join_element_wise("'", col, ""), col)
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def iter_csv(table: pa.Table, batch_rows: int = CSV_BATCH_ROWS) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (Excel reads it as UTF-8), header first, in row batches.

    Cells are neutralised here, before the first byte is sent, so any failure is a clean
    error response rather than a cut-off file.
    """
    table = neutralise(table)
    opts = pacsv.WriteOptions(include_header=True, quoting_style="needed")

    def gen() -> Iterator[bytes]:
        buf = io.BytesIO()
        buf.write(BOM)
        with pacsv.CSVWriter(buf, table.schema, write_options=opts) as writer:
            for start in range(0, max(table.num_rows, 1), batch_rows):
                writer.write_table(table.slice(start, batch_rows))
                yield _drain(buf)
        rest = buf.getvalue()
        if rest:
            yield rest

    return gen()


def _drain(buf: io.BytesIO) -> bytes:
    data = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return data


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def iter_file(path: Path, chunk: int = 1 << 20) -> Iterator[bytes]:
    """A file in chunks; the handle is opened at once so a later folder swap cannot hit it."""
    fh = open(path, "rb")  # noqa: SIM115 - closed by the generator

    def gen() -> Iterator[bytes]:
        with fh:
            while data := fh.read(chunk):
                yield data

    return gen()
