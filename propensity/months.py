"""Month arithmetic on ``YYYY-MM`` strings, the unit every monthly table is partitioned by.

A month ``M`` has one cut-off: the first instant of ``M`` (``M-01T00:00``). Everything a
stage builds "for month M" uses only what was observed strictly before that instant, and
labels look at the three months ``M``, ``M+1``, ``M+2``.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: str) -> dt.date:
    """Return the first day of ``month`` (``YYYY-MM``); raise ``ValueError`` naming the value."""
    m = _MONTH_RE.match(str(month))
    if not m:
        raise ValueError(f"month must look like YYYY-MM, got {month!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def format_month(day: dt.date) -> str:
    """``YYYY-MM`` of the month containing ``day``."""
    return f"{day.year:04d}-{day.month:02d}"


def add_months(month: str, n: int) -> str:
    """The month ``n`` months after ``month`` (``n`` may be negative)."""
    d = parse_month(month)
    idx = d.year * 12 + (d.month - 1) + n
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def month_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, in order."""
    a, b = parse_month(start), parse_month(end)
    n = (b.year - a.year) * 12 + (b.month - a.month)
    if n < 0:
        raise ValueError(f"month range is empty: {start} is after {end}")
    return [add_months(start, i) for i in range(n + 1)]


def cutoff(month: str) -> dt.datetime:
    """The cut-off instant of ``month``: its first day at 00:00 (naive UTC)."""
    d = parse_month(month)
    return dt.datetime(d.year, d.month, d.day)


def month_index(month: str) -> int:
    """A monotone integer for ``month`` (months since year 0), handy for vector arithmetic."""
    d = parse_month(month)
    return d.year * 12 + d.month - 1
