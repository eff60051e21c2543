"""Training sets read from the lake's feature and label tables, split by time only.

For a training run "for month M" (the month whose scores the models will produce), the
backtest month is the latest cut-off whose three-month label window closed before M's
cut-off: ``B = M - 3``. Models are judged on ``B`` and learn only from cut-offs whose own
label windows closed before ``B``'s cut-off: the latest is ``B - 3`` (a purged time split).
Training on ``B - 1`` or ``B - 2`` would leak: their labels cover months ``B`` and ``B + 1``,
the backtest's own window, and a model that recognises a customer (account age, signal
confidences and other near-unique values identify one) then "predicts" purchases it was
taught. The champion is judged on the same rows, so the gate compares like with like.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months
from propensity.products import best_customers, eligible_mask

FEATURES = "features"
LABELS = "labels"

FIT_FAMILIES = ("firm", "ib", "adopt", "agr")
KEY = ("customer_id", "as_of")
#: Months a label looks ahead (M, M+1, M+2): the purge gap between training and backtest.
HORIZON = 3
#: Feature columns the eligibility rules read (:func:`propensity.products.eligible_mask`).
ELIGIBILITY = ("agr_ending_90d", *(f"ib_{p}_owned" for p in (
    "azure", "m365", "copilot", "d365_bc", "d365_sales_pro", "power_apps", "surface",
    "security_e5")))
#: Column of a sampled training frame: the inverse of each row's inclusion probability.
WEIGHT = "sample_weight"


class TrainingDataError(ValueError):
    """The lake does not hold what a training run needs; the message says what is missing."""


def feature_months(lake: Lake) -> list[str]:
    return lake.months(FEATURES)


def label_months(lake: Lake) -> list[str]:
    return lake.months(LABELS)


def read_month(lake: Lake, month: str, labels: bool = True,
               columns: list[str] | None = None) -> pd.DataFrame:
    """Features of one cut-off, joined with its labels when asked (inner join on the key).

    ``columns`` reads only those feature columns (the key is always read); ``labels`` may
    be True (every label) or a list of label columns.
    """
    path = lake.path(FEATURES, month)
    if not path.exists():
        raise TrainingDataError(f"no features for {month} at {path}: run "
                                f"`propensity features --month {month}`")
    cols = None if columns is None else [*KEY, *(c for c in columns if c not in KEY)]
    f = _read_features(path, month, cols).to_pandas()
    if labels:
        lp = lake.path(LABELS, month)
        if not lp.exists():
            raise TrainingDataError(f"no labels for {month} at {lp}: its 3-month window has "
                                    "not closed, or features were built without labels")
        lcols = None if labels is True else ["customer_id", *labels]
        lab = _read_labels(lp, month, lcols).to_pandas()
        f = f.merge(lab.drop(columns=["as_of"], errors="ignore"), on="customer_id",
                    how="inner", validate="one_to_one")
    f["as_of"] = pd.to_datetime(f["as_of"])
    # feature files hold rows in no particular order (the engine's); a model fitted on them
    # depends on row order (bagging, ties), so rows are put in key order
    return f.sort_values("customer_id", kind="stable", ignore_index=True)


@dataclass
class Plan:
    """Which cut-offs a training run for ``month`` uses."""

    month: str
    backtest: str
    train: list[str]


def plan(lake: Lake, month: str, train_months: int) -> Plan:
    """Backtest month and training months for a run for ``month`` (time split only)."""
    have = set(label_months(lake))
    backtest = add_months(month, -HORIZON)
    if backtest not in have:
        older = sorted(m for m in have if m < backtest)
        if not older:
            raise TrainingDataError(
                f"training for {month} needs labelled features for {backtest} (the latest "
                f"cut-off whose 3-month window closed before {month}); the lake has labels for "
                f"{sorted(have) or 'no month'}")
        backtest = older[-1]
    # purged: the latest training cut-off's window (last, last+1, last+2) ends before backtest
    last = add_months(backtest, -HORIZON)
    train = [add_months(last, -i) for i in range(train_months - 1, -1, -1)]
    train = [m for m in train if m in have]
    if len(train) < 2:
        raise TrainingDataError(f"training for {month} needs at least two labelled cut-offs "
                                f"up to {last} (label windows closed before the backtest "
                                f"month {backtest}); found {train}")
    return Plan(month, backtest, train)


def _schema_names(path: Path) -> list[str]:
    schema = C.parquet_schema(path)
    return list(schema.names) if schema is not None else []


def _read_features(path: Path, month: str, columns: list[str] | None) -> pa.Table:
    """``columns`` of a feature table, or a clear error when it was built without some of
    them (features built by an older version of the definitions)."""
    if columns is not None:
        have = set(_schema_names(Path(path)))
        missing = [c for c in columns if c not in have]
        if missing:
            raise TrainingDataError(
                f"features for {month} at {path} lack {len(missing)} column(s) the run reads "
                f"({', '.join(missing[:4])}{', ...' if len(missing) > 4 else ''}): they were "
                f"built by an older version; rebuild them with "
                f"`propensity features --month {month}`")
    return pq.read_table(path, columns=columns)


def _read_labels(path: Path, month: str, columns: list[str] | None) -> pa.Table:
    """``columns`` of a label table, or a clear error when it was built with another label
    definition (:data:`propensity.contracts.LABEL_DEFINITION`): months built by different
    definitions would teach one model two meanings of "bought"."""
    have = C.label_definition(Path(path))
    if have != C.LABEL_DEFINITION:
        raise TrainingDataError(
            f"labels for {month} at {path} were built with label definition "
            f"{have or '1'}, this version reads {C.LABEL_DEFINITION} (version 1 counted expired "
            f"trials as purchases); rebuild them with `propensity features --month {month}`")
    return pq.read_table(path, columns=columns)


def frame(lake: Lake, months: list[str]) -> pd.DataFrame:
    """Features and labels of several cut-offs stacked (every month read with the columns
    of the latest, so a month built by an older version fails with the fix named)."""
    names = feature_names(lake, months[-1])
    return pd.concat([read_month(lake, m, columns=names) for m in months], ignore_index=True)


def feature_names(lake: Lake, month: str) -> list[str]:
    """Column names of the feature table of ``month`` (read from its schema only)."""
    path = Path(lake.path(FEATURES, month))
    names = _schema_names(path)
    if not names:
        raise TrainingDataError(f"no features for {month} at {path}")
    return names


class IntentRows:
    """The intent training rows of several products over ``months``, each month read once.

    Large books sample non-buyers (``negative_rate`` below 1). Reading a product's twelve
    cut-offs of a million companies took about 20 s, once per product, mostly decoding rows
    it then drops; here each cut-off is read once with the intent columns of every product
    and cut to the rows some product keeps (about a quarter at 1M companies). Those rows are
    held as compressed Parquet in memory, not decoded (decoded, they would hold gigabytes at
    1M companies), until :meth:`frame` decodes one product's columns and rows.

    A product keeps its eligible, labelled rows: every buyer and the non-buyers whose
    customer-and-month hash (with ``seed``) falls below ``negative_rate``. The hash does not
    depend on the product, so products share one sample and the held rows stay few (the
    sample plus each product's buyers). The choice is the same on every run and whatever the
    file's row order.
    """

    def __init__(self, lake: Lake, months: list[str], products: tuple[str, ...],
                 negative_rate: float = 1.0, seed: int = 0) -> None:
        if not 0 < negative_rate <= 1:
            raise ValueError(f"negative_rate must be in (0, 1], got {negative_rate!r}")
        self.negative_rate = negative_rate
        names = pd.DataFrame(columns=feature_names(lake, months[-1]))
        self.columns = {p: feature_columns(names, p, "intent") for p in products}
        union = sorted({c for cols in self.columns.values() for c in cols})
        labels = [f"label_{p}" for p in products]
        # per month: (rows some product keeps, as Parquet bytes; each product's mask and
        # labels on those rows)
        self.parts: list[tuple[pa.Buffer, dict[str, np.ndarray], dict[str, np.ndarray]]] = []
        for m in months:
            path, lpath = lake.path(FEATURES, m), lake.path(LABELS, m)
            if not path.exists():
                raise TrainingDataError(f"no features for {m} at {path}")
            if not lpath.exists():
                raise TrainingDataError(f"no labels for {m} at {lpath}")
            tbl = _read_features(path, m, [*KEY, *union])
            # decide on the few columns eligibility needs, then keep only the rows in use
            key = tbl.select([c for c in tbl.column_names
                              if c == "customer_id" or c in ELIGIBILITY]).to_pandas()
            lab = _read_labels(lpath, m, ["customer_id", *labels]).to_pandas()
            key = key.merge(lab, on="customer_id", how="left", validate="one_to_one")
            sampled = (_uniform(key["customer_id"], f"{m}|{seed}") < negative_rate
                       if negative_rate < 1 else np.ones(len(key), bool))
            ys = {p: key[f"label_{p}"].fillna(False).astype(bool).to_numpy() for p in products}
            keeps = {p: eligible_mask(key, p) & key[f"label_{p}"].notna().to_numpy()
                     & (ys[p] | sampled) for p in products}
            any_keep = np.logical_or.reduce(list(keeps.values()))
            # the kept rows in key order, whatever order the engine wrote them in (a model
            # fitted on them depends on row order)
            order = np.argsort(key["customer_id"].to_numpy(str), kind="stable")
            rows = order[any_keep[order]]
            sink = pa.BufferOutputStream()
            pq.write_table(tbl.take(pa.array(rows)), sink, compression="lz4")
            del tbl
            self.parts.append((sink.getvalue(), {p: k[rows] for p, k in keeps.items()},
                               {p: y[rows] for p, y in ys.items()}))

    def frame(self, product: str) -> pd.DataFrame:
        """Key, intent columns, label and :data:`WEIGHT` (1 / inclusion probability: 1 for
        buyers, ``1 / negative_rate`` for kept non-buyers) of ``product``'s kept rows."""
        if product not in self.columns:
            raise KeyError(f"{product!r} was not read (read: {sorted(self.columns)})")
        label = f"label_{product}"
        out = []
        for buf, keeps, ys in self.parts:
            keep = keeps[product]
            tbl = pq.read_table(pa.BufferReader(buf), columns=[*KEY, *self.columns[product]])
            df = tbl.filter(pa.array(keep)).to_pandas()
            df["as_of"] = pd.to_datetime(df["as_of"])
            y = ys[product][keep]
            df[label] = y
            df[WEIGHT] = np.where(y, 1.0, 1.0 / self.negative_rate)
            out.append(df)
        return pd.concat(out, ignore_index=True)


def intent_frame(lake: Lake, months: list[str], product: str, negative_rate: float = 1.0,
                 seed: int = 0) -> pd.DataFrame:
    """The intent training rows of ``product`` over ``months``, read lean for large books.

    Reads only the product's intent columns and label, keeps the eligible rows, every buyer
    and a ``negative_rate`` share of the others, and adds :data:`WEIGHT` = 1 / inclusion
    probability, so weighted fits see the full population's class balance
    (:class:`IntentRows`, which reads several products at once, for one product).
    """
    return IntentRows(lake, months, (product,), negative_rate, seed).frame(product)


def _uniform(keys: pd.Series, salt: str) -> np.ndarray:
    """A deterministic uniform number in [0, 1) per key (a hash of key and salt)."""
    h = pd.util.hash_pandas_object(keys.astype(str) + "|" + salt, index=False).to_numpy()
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def feature_columns(df: pd.DataFrame, product: str, kind: str) -> list[str]:
    """Columns a model of ``kind`` may read for ``product``.

    Intent: firmographics, install base, adoption, agreements, and the product's own
    win/loss and signals (its topic area and topics). Fit: firmographics, agreements, and install base and
    adoption of the *other* products (the product's own ownership defines its positives).
    """
    cols = [c for c in df.columns if c not in KEY and c != WEIGHT and not c.startswith("label_")]
    if kind == "intent":
        return [c for c in cols if _intent_relevant(c, product)]
    own = (f"ib_{product}_", f"adopt_{product}_")
    return [c for c in cols if c.split("_", 1)[0] in FIT_FAMILIES and not c.startswith(own)
            and not (product == "renewal" and c.startswith("agr_"))]


def fit_read_columns(names: list[str]) -> list[str]:
    """Of the feature table's ``names``, what a fit model reads: its features
    (:func:`feature_columns`) and what its positives are chosen from
    (:func:`propensity.products.best_customers`: install base, adoption, agreements,
    subsegment and win/loss)."""
    return [c for c in names if c.split("_", 1)[0] in (*FIT_FAMILIES, "wl")]


SIGNAL_SUMMARY = ("sig_any_seen", "sig_count_90d", "sig_topics_90d")
#: Win/loss columns counted over the whole history before the cut-off. Their values grow
#: with the lake's age, so a model trained on young cut-offs misreads old ones (renewal's
#: probabilities fell to a quarter of its win rate when last year's renewals came into
#: view); intent reads the windowed counts (``wl_<p>_wins_90d``, ...) instead.
LIFETIME_WIN_LOSS: tuple[str, ...] = ("opps", "wins", "losses", "win_rate")


def _intent_relevant(col: str, product: str) -> bool:
    """Intent reads the whole book, but only its own product's signals and win/loss.

    Signals about topics that point elsewhere are noise for this product; dropping them
    (and other products' win/loss) improved every backtest we ran. Of the product's
    win/loss, the whole-history counts (:data:`LIFETIME_WIN_LOSS`) are left out.
    """
    from propensity.contracts import TOPICS

    family = col.split("_", 1)[0]
    if family in ("firm", "ib", "adopt", "agr"):
        return True
    if family == "wl":
        prefix = f"wl_{product}_"
        return col.startswith(prefix) and col.removeprefix(prefix) not in LIFETIME_WIN_LOSS
    if family == "sigarea":
        return col.startswith(f"sigarea_{product}_")
    if family == "sig":
        topics = [t.id for t in TOPICS if product in t.product_areas]
        return col in SIGNAL_SUMMARY or any(col.startswith(f"sig_{t}_") for t in topics)
    return False


def intent_set(df: pd.DataFrame, product: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Eligible rows, their labels and their cut-off times."""
    m = eligible_mask(df, product)
    sub = df[m]
    return sub, sub[f"label_{product}"].astype(bool).to_numpy(), sub["as_of"].to_numpy()


def fit_set(df: pd.DataFrame, product: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Every row, labelled 1 when it is among the product's best customers (PU positives)."""
    return df, best_customers(df, product).astype(int)


def data_hash(lake: Lake, months: list[str]) -> str:
    """SHA-256 over the feature and label files a run read (lineage)."""
    h = hashlib.sha256()
    for m in sorted(months):
        for table in (FEATURES, LABELS):
            p = lake.path(table, m)
            for f in sorted(Path(p).glob("*.parquet")) if p.exists() else []:
                h.update(f"{table}/{m}/{f.name}".encode())
                with open(f, "rb") as fh:
                    for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                        h.update(chunk)
    return h.hexdigest()
