"""Input validation and quarantine for every table the features stage reads.

The checks are Ibis expressions, so they run on the engine that builds the features (DuckDB or
Spark) and scale with it; the expected columns and types come from the contracts in
:mod:`propensity.contracts`, declared once.

Policy: refuse or quarantine
----------------------------
**Refuse** (raise :class:`InputValidationError`; nothing is written for the month) when a
whole table is malformed:

- a contract column is missing;
- a contract column has the wrong type (e.g. ``seats_sold`` as text);
- the companies table has no row;
- more than ``Policy.max_quarantine_share`` (default 5%) of a table's rows break a row rule:
  that many bad rows mean a broken export, not a few bad records.

The error names the table (and the folder it was read from), the column, and example rows.

**Quarantine** row-level violations, which leave the rest of the table usable:

- a null in a column the contract declares non-nullable;
- a duplicate key (every row sharing the key is set aside: none of them can be trusted;
  for monthly snapshots the key is unique within a month);
- impossible values: negative seats, users, employees, revenue or amounts; an end before its
  start (subscriptions, agreements); an opportunity closed before it was created, or won/lost
  without a close date; a confidence outside [0, 1]; a signal published after it was observed;
- unknown codes: product, status, outcome, subsegment, topic, source. (A signal's
  ``product_areas`` is not read: product areas come from its topic through the contract.)

Quarantined rows are never silently dropped: they are written with a ``reason`` column (the
first rule the row breaks) to ``quarantine/<table>/month=M/part-0.parquet`` for the month being
built, counted per reason, logged, and returned in the build report.

A signal seen again by a later crawl (same ``signal_id`` in another month's partition) is not a
violation: it is expected, and the definitions keep its earliest observation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from features.engines import Engine
from propensity import contracts as C

log = logging.getLogger(__name__)

REASON = "reason"


class InputValidationError(C.ContractError):
    """An input table was refused; the message names table, column and example rows."""


@dataclass(frozen=True)
class Rule:
    """A row-level rule: ``violates(table)`` is True on the rows that break it."""

    reason: str
    column: str
    violates: Callable[[ir.Table], ir.BooleanValue]


@dataclass(frozen=True)
class Policy:
    """When a table with bad rows is refused rather than partly quarantined."""

    max_quarantine_share: float = 0.05


@dataclass
class Checked:
    """A validated table: the clean rows, the quarantined ones and counts per reason."""

    table: str
    where: str
    rows: int
    clean: ir.Table
    quarantine: ir.Table
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def quarantined(self) -> int:
        return sum(self.counts.values())


def _negative(col: str) -> Rule:
    return Rule(f"negative {col}", col, lambda t: t[col] < 0)


def _unknown(col: str, values: tuple[str, ...], what: str) -> Rule:
    return Rule(f"unknown {what}", col, lambda t: ~t[col].isin(values))


def _before(end: str, start: str, reason: str) -> Rule:
    return Rule(reason, end, lambda t: t[end] < t[start])


SUB_PRODUCTS = tuple(p for p in C.PRODUCTS if p != "renewal")

#: Row rules per input table, checked after nulls and duplicate keys, in this order.
RULES: dict[str, tuple[Rule, ...]] = {
    "companies": (
        _negative("employees"),
        _negative("acr_monthly_usd"),
        _unknown("subsegment", C.SUBSEGMENTS, "subsegment"),
    ),
    "subscriptions": (
        _unknown("product", SUB_PRODUCTS, "product"),
        _unknown("status", C.SUBSCRIPTION_STATUSES, "status"),
        _negative("seats_sold"),
        _negative("seats_assigned"),
        _negative("active_users_28d"),
        _negative("monthly_revenue_usd"),
        _before("end_date", "start_date", "end before start"),
    ),
    "agreements": (
        _before("end_date", "start_date", "end before start"),
        _negative("due_revenue_usd"),
    ),
    "opportunities": (
        _unknown("product", C.PRODUCTS, "product"),
        _unknown("outcome", C.OPPORTUNITY_OUTCOMES, "outcome"),
        _before("closed_at", "created_at", "closed before created"),
        Rule("won or lost without a close date", "closed_at",
             lambda t: t.outcome.isin(("won", "lost")) & t.closed_at.isnull()),
        _negative("amount_usd"),
    ),
    "signals": (
        _unknown("topic", C.TOPIC_IDS, "topic"),
        _unknown("source", C.SOURCES, "source"),
        Rule("confidence outside [0, 1]", "confidence",
             lambda t: (t.confidence < 0) | (t.confidence > 1)),
        Rule("published after observed", "published_at",
             lambda t: t.published_at > t.observed_at.date()),
    ),
}

#: Tables whose duplicate keys are not checked (see the module docstring for signals).
NO_KEY_CHECK: frozenset[str] = frozenset({"signals"})


def _type_ok(actual: dt.DataType, expected: pa.DataType) -> bool:
    if pa.types.is_string(expected):
        return actual.is_string()
    if pa.types.is_integer(expected):
        return actual.is_integer()
    if pa.types.is_floating(expected):
        return actual.is_floating()
    if pa.types.is_boolean(expected):
        return actual.is_boolean()
    if pa.types.is_date(expected):
        return actual.is_date()
    if pa.types.is_timestamp(expected):
        return actual.is_timestamp()
    if pa.types.is_list(expected):
        return actual.is_array() and _type_ok(actual.value_type, expected.value_type)
    return False


def _examples(engine: Engine, table: ir.Table, columns: list[str], n: int = 3) -> list[dict]:
    return engine.to_arrow(table.select(*dict.fromkeys(columns)).limit(n)).to_pylist()


def check_schema(engine: Engine, table: ir.Table, contract: C.TableContract, where: str
                 ) -> ir.Table:
    """Refuse a table with a missing or mistyped contract column; return it cast to the contract.

    Extra columns are kept (a stage may add columns); contract columns are cast to the exact
    contract type (e.g. int32 -> int64) so every engine sees the same types.
    """
    loc = f"{contract.name} ({where})"
    schema = table.schema()
    missing = [c.name for c in contract.columns if c.name not in schema]
    if missing:
        raise InputValidationError(
            f"table {loc}: missing column(s) {missing}; it has {list(schema.names)}")
    key = [k for k in contract.key if k in schema]
    for col in contract.columns:
        if not _type_ok(schema[col.name], col.type):
            rows = _examples(engine, table, [*key, col.name])
            raise InputValidationError(
                f"table {loc}: column {col.name!r} has type {schema[col.name]}, expected "
                f"{col.type}; e.g. rows {rows}")
    casts = {}
    for col in contract.columns:
        want = dt.dtype(col.type)
        if schema[col.name] != want and not (want.is_timestamp() and schema[col.name].is_timestamp()):
            casts[col.name] = table[col.name].cast(want)
    return table.mutate(**casts) if casts else table


def mark(table: ir.Table, contract: C.TableContract, partition: str | None = None) -> ir.Table:
    """``table`` with a ``reason`` column: the first rule each row breaks, null when clean."""
    branches: list[tuple[ir.BooleanValue, str]] = []
    for col in contract.columns:
        if not col.nullable:
            branches.append((table[col.name].isnull(), f"null {col.name}"))
    if contract.key and contract.name not in NO_KEY_CHECK:
        key = [*contract.key, *([partition] if partition else [])]
        w = ibis.window(group_by=[table[k] for k in key])
        branches.append((table[contract.key[0]].count().over(w) > 1,
                         f"duplicate {'+'.join(contract.key)}"))
    for rule in RULES.get(contract.name, ()):
        branches.append((rule.violates(table).fill_null(False), rule.reason))
    reason = ibis.cases(*branches, else_=ibis.null("string"))
    return table.mutate(**{REASON: reason})


def validate_input(engine: Engine, table: ir.Table, contract: C.TableContract, where: str,
                   policy: Policy | None = None, partition: str | None = None,
                   materialize: bool = True) -> Checked:
    """Check ``table`` against ``contract`` and the rules; split clean from quarantined rows.

    Raises :class:`InputValidationError` per the module's policy. ``partition`` names the
    column that separates monthly snapshots (keys are unique within one). With
    ``materialize`` the clean rows are computed once and reused by every feature family.
    """
    policy = policy or Policy()
    table = check_schema(engine, table, contract, where)
    keep = [*contract.column_names, *([partition] if partition else [])]
    table = table.select(*keep)
    marked = mark(table, contract, partition)
    if materialize:
        marked = engine.materialize(marked, f"checked_{contract.name}")
    counts_t = engine.to_arrow(marked.group_by(REASON).aggregate(n=marked.count()))
    counts = {r: int(n) for r, n in zip(counts_t[REASON].to_pylist(), counts_t["n"].to_pylist(),
                                        strict=True)}
    rows = sum(counts.values())
    bad = {r: n for r, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
           if r is not None}
    loc = f"{contract.name} ({where})"
    if contract.name == "companies" and rows == 0:
        raise InputValidationError(f"table {loc}: no rows")
    quarantine = marked.filter(marked[REASON].notnull())
    if bad and sum(bad.values()) > policy.max_quarantine_share * rows:
        reason, n = next(iter(bad.items()))
        rule_col = _rule_column(contract, reason)
        rows_ex = _examples(engine, quarantine.filter(quarantine[REASON] == reason),
                            [*contract.key, rule_col, REASON])
        raise InputValidationError(
            f"table {loc}: {sum(bad.values())} of {rows} rows break row rules (more than "
            f"{policy.max_quarantine_share:.0%}), refusing the table; most common: "
            f"{n} x {reason!r} on column {rule_col!r}, e.g. rows {rows_ex}; all reasons: {bad}")
    clean = marked.filter(marked[REASON].isnull()).drop(REASON)
    if bad:
        log.warning("%s: quarantined %d of %d rows: %s", loc, sum(bad.values()), rows, bad)
    return Checked(contract.name, where, rows, clean, quarantine, bad)


def _rule_column(contract: C.TableContract, reason: str) -> str:
    if reason.startswith("null "):
        return reason[5:]
    if reason.startswith("duplicate "):
        return contract.key[0]
    for rule in RULES.get(contract.name, ()):
        if rule.reason == reason:
            return rule.column
    return contract.key[0] if contract.key else contract.columns[0].name
