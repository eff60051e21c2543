"""Typed items the spiders yield.

:class:`SignalItem` carries the ``signals`` contract's columns (derived from
:data:`propensity.contracts.SIGNALS`, never retyped) plus what entity resolution needs
(``subjects``, ``mention_text``, ``mention_domains``) and what it decides (``match_method``,
``match_confidence``, ``resolution``). :class:`PageDoneItem` tells the store that every signal
of a page has been yielded, which is what makes a killed crawl resumable page by page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pyarrow as pa

from propensity.contracts import SIGNALS


def _py_type(t: pa.DataType) -> Any:
    if pa.types.is_string(t):
        return str | None
    if pa.types.is_date(t):
        return dt.date | None
    if pa.types.is_timestamp(t):
        return dt.datetime | None
    if pa.types.is_floating(t):
        return float | None
    if pa.types.is_integer(t):
        return int | None
    if pa.types.is_list(t):
        return list[str]
    return Any


def _default(t: pa.DataType) -> Any:
    return dataclasses.field(default_factory=list) if pa.types.is_list(t) else None


# Columns beyond the contract that the signals table also carries (the contract allows extra
# columns): how the customer was matched and how sure the match is, and the page's kind.
EXTRA_COLUMNS: dict[str, pa.DataType] = {
    "page_kind": pa.string(),
    "match_method": pa.string(),
    "match_confidence": pa.float64(),
    "resolution": pa.string(),
}

# Inputs of entity resolution, dropped before the table is written.
_RESOLUTION_INPUTS: list[tuple[str, Any, Any]] = [
    ("subjects", list[str], dataclasses.field(default_factory=list)),
    ("mention_text", str, ""),
    ("mention_domains", list[str], dataclasses.field(default_factory=list)),
]

SignalItem = dataclasses.make_dataclass(
    "SignalItem",
    [(c.name, _py_type(c.type), _default(c.type)) for c in SIGNALS.columns]
    + [(name, _py_type(t), None) for name, t in EXTRA_COLUMNS.items()]
    + _RESOLUTION_INPUTS,
)
SignalItem.__module__ = __name__
SignalItem.__doc__ = (
    "One signal read off a page: the contract's columns, the page kind, the resolution "
    "inputs (subjects, mention_text, mention_domains) and outcome (match_*, resolution).")

TABLE_COLUMNS: list[str] = SIGNALS.column_names + list(EXTRA_COLUMNS)


def table_schema() -> pa.Schema:
    """Arrow schema of the signals table as written: contract columns, then the extras."""
    return pa.schema(list(SIGNALS.schema()) + [pa.field(n, t) for n, t in EXTRA_COLUMNS.items()])


@dataclasses.dataclass
class PageDoneItem:
    """A page has been fully parsed: all its signals were yielded before this item."""

    url: str
    source: str
    page_kind: str
    canonical: str | None = None
    signals: int = 0
