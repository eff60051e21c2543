"""Signals without a crawl: what a perfect crawler would have read, and bulk tables for benchmarks.

Two producers of ``signals/month=M`` tables (contract :data:`propensity.contracts.SIGNALS`):

- :func:`signals_from_traces` turns the market's truth (``truth/web_traces``) into the signals a
  perfect crawler would have produced at the crawl for month ``M``: every mention published
  before the cut-off of ``M``, observed one hour before that cut-off, resolved to its company.
  Tests of the features stage use it, and it stands in for the crawler until one exists.
- :func:`bulk_signals` generates a large synthetic signals table fast (vectorised), for the
  features benchmark only: it does not follow the market's truth.

Both are deterministic: the same inputs give byte-identical tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months, cutoff, parse_month

log = logging.getLogger(__name__)

#: How long before the cut-off of ``M`` the crawl for ``M`` observes the web.
CRAWL_LEAD = dt.timedelta(hours=1)


def signal_id(url: str, topic: str, customer_id: str | None) -> str:
    """The stable identifier of a signal: a hash of (url, topic, customer_id)."""
    key = f"{url}|{topic}|{customer_id or ''}"
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def _confidence(sid: str) -> float:
    """A deterministic extraction confidence in [0.6, 1.0) derived from the signal id."""
    return round(0.6 + 0.4 * int(sid[:8], 16) / 2**32, 3)


def _evidence(source: str, topic: str) -> str:
    return f"A {source} page mentions that the company {C.TOPIC_BY_ID[topic].description}."[:280]


def signals_from_traces(lake: Lake, month: str) -> pa.Table:
    """The signals a perfect crawler would have produced at the crawl for ``month``.

    Reads ``truth/web_traces`` and ``raw/companies``; keeps mentions published before
    ``cutoff(month)``; ``observed_at`` is one hour before that cut-off. One row per
    (url, topic, customer); columns and types follow :data:`propensity.contracts.SIGNALS`.
    """
    limit = cutoff(month)
    traces = lake.read(C.WEB_TRACES, columns=["customer_id", "topic", "url", "published_at",
                                              "source"])
    traces = traces.filter(pc.less(traces["published_at"], pa.scalar(limit.date())))
    companies = lake.read(C.COMPANIES, columns=["customer_id", "domain"])
    domain_of = dict(zip(companies["customer_id"].to_pylist(), companies["domain"].to_pylist(),
                         strict=True))
    cust = traces["customer_id"].to_pylist()
    topic = traces["topic"].to_pylist()
    url = traces["url"].to_pylist()
    source = traces["source"].to_pylist()
    ids = [signal_id(u, t, c) for u, t, c in zip(url, topic, cust, strict=True)]
    observed = limit - CRAWL_LEAD
    table = pa.table({
        "signal_id": pa.array(ids, pa.string()),
        "domain": pa.array([domain_of.get(c) for c in cust], pa.string()),
        "customer_id": pa.array(cust, pa.string()),
        "source": pa.array(source, pa.string()),
        "url": pa.array(url, pa.string()),
        "published_at": traces["published_at"].cast(pa.date32()),
        "observed_at": pa.array([observed] * len(ids), pa.timestamp("us")),
        "topic": pa.array(topic, pa.string()),
        "product_areas": pa.array([list(C.TOPIC_BY_ID[t].product_areas) for t in topic],
                                  pa.list_(pa.string())),
        "signal_type": pa.array([C.TOPIC_BY_ID[t].signal_type for t in topic], pa.string()),
        "evidence": pa.array([_evidence(s, t) for s, t in zip(source, topic, strict=True)],
                             pa.string()),
        "confidence": pa.array([_confidence(i) for i in ids], pa.float64()),
    })
    # web_traces is unique on (customer, topic, url), so signal ids are unique too
    return table.sort_by([("signal_id", "ascending")])


def write_signals(lake: Lake, months: str | Iterable[str]) -> dict[str, int]:
    """Write :func:`signals_from_traces` to ``signals/month=M`` for each month; rows per month."""
    out = {}
    for m in [months] if isinstance(months, str) else list(months):
        table = signals_from_traces(lake, m)
        lake.write(C.SIGNALS, table, month=m)
        out[m] = table.num_rows
        log.info("signals for %s: %d rows from the market's web traces", m, table.num_rows)
    return out


# --------------------------------------------------------------------------------------
# Bulk signals for the benchmark
# --------------------------------------------------------------------------------------

_TOPIC_AREAS = pa.array([list(t.product_areas) for t in C.TOPICS], pa.list_(pa.string()))
_TOPIC_IDS = pa.array(C.TOPIC_IDS, pa.string())
_TOPIC_TYPES = pa.array([t.signal_type for t in C.TOPICS], pa.string())
_SOURCES = pa.array(C.SOURCES, pa.string())
_EVIDENCE = pa.array([_evidence("web", t.id) for t in C.TOPICS], pa.string())


def bulk_signal_counts(months: int, rows: int, repeats: int) -> tuple[int, int]:
    """New signals per crawl month and the total rows that gives (>= ``rows``)."""
    weight = sum(1 + min(i, repeats) for i in range(months))
    per_month = -(-rows // weight)
    return per_month, per_month * weight


def _bulk_month(i: int, month: str, per_month: int, customer_ids: pa.Array, domains: pa.Array,
                seed: int, unresolved: float) -> pa.Table:
    """The ``per_month`` new signals published during the month before ``month`` (crawl i)."""
    rng = np.random.default_rng([seed, i])
    n = len(customer_ids)
    # skewed attention: a minority of companies carries most signals
    who = np.minimum((n * rng.random(per_month) ** 2).astype(np.int64), n - 1)
    who_a = pa.array(who)
    topic = pa.array(rng.integers(0, len(C.TOPICS), per_month).astype(np.int32))
    src = pa.array(rng.integers(0, len(C.SOURCES), per_month).astype(np.int32))
    lo = (parse_month(add_months(month, -1)) - dt.date(1970, 1, 1)).days
    hi = (parse_month(month) - dt.date(1970, 1, 1)).days
    published = pa.array(rng.integers(lo, hi, per_month).astype(np.int32)).cast(pa.date32())
    start = i * per_month
    sid = pc.utf8_lpad(pc.cast(pa.array(np.arange(start, start + per_month)), pa.string()),
                       16, "0")
    dom = domains.take(who_a)
    cust = customer_ids.take(who_a)
    if unresolved > 0:
        cust = pc.if_else(pa.array(rng.random(per_month) < unresolved),
                          pa.scalar(None, pa.string()), cust)
    url = pc.binary_join_element_wise("http://", dom, "/p/", sid, "")
    conf = pa.array(np.round(0.6 + 0.4 * rng.random(per_month), 3))
    return pa.table({
        "signal_id": sid,
        "domain": dom,
        "customer_id": cust,
        "source": _SOURCES.take(src),
        "url": url,
        "published_at": published,
        "observed_at": pa.array(np.zeros(per_month, np.int64), pa.timestamp("us")),
        "topic": _TOPIC_IDS.take(topic),
        "product_areas": _TOPIC_AREAS.take(topic),
        "signal_type": _TOPIC_TYPES.take(topic),
        "evidence": _EVIDENCE.take(topic),
        "confidence": conf,
    })


def bulk_signals(customer_ids: pa.Array, domains: pa.Array, months: Sequence[str], rows: int,
                 repeats: int = 1, seed: int = 0, unresolved: float = 0.02
                 ) -> Iterator[tuple[str, pa.Table]]:
    """Yield ``(month, signals table)`` for each crawl month, ``rows`` rows in all (or a few more).

    For the features benchmark only. Crawl ``i`` carries the signals published during the
    month before it plus, like a real re-crawl, those of the ``repeats`` crawls before it
    again (same ``signal_id``, later ``observed_at``), so the reader must deduplicate.
    ``unresolved`` is the share of signals whose company was not resolved (null customer).
    """
    per_month, _ = bulk_signal_counts(len(months), rows, repeats)
    observed_of = {m: pa.scalar(cutoff(m) - CRAWL_LEAD, pa.timestamp("us")) for m in months}
    for i, m in enumerate(months):
        parts = [_bulk_month(j, months[j], per_month, customer_ids, domains, seed, unresolved)
                 for j in range(max(0, i - repeats), i + 1)]
        table = pa.concat_tables(parts)
        obs = pa.array(np.full(table.num_rows, observed_of[m].value, np.int64),
                       pa.timestamp("us"))
        table = table.set_column(table.schema.get_field_index("observed_at"), "observed_at", obs)
        yield m, table


def write_bulk_signals(lake: Lake, months: Sequence[str], rows: int, repeats: int = 1,
                       seed: int = 0) -> int:
    """Write :func:`bulk_signals` for the companies in ``lake`` to ``signals/month=M``; rows."""
    companies = lake.read(C.COMPANIES, columns=["customer_id", "domain"])
    cust = companies["customer_id"].combine_chunks()
    dom = companies["domain"].combine_chunks()
    total = 0
    for m, table in bulk_signals(cust, dom, months, rows, repeats=repeats, seed=seed):
        # ids are unique within a crawl by construction: skip the costly key check
        lake.write(C.SIGNALS, table, month=m, check_key=False)
        total += table.num_rows
    return total
