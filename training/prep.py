"""Turn a feature frame into the matrix LightGBM reads, the same way at fit and at predict.

Text columns become pandas categoricals with the categories seen at fit (unknown values at
predict become missing, never a new code); booleans become 0/1; numbers become float; the
column order is fixed at fit. The preparer is the first step of every logged pipeline, so a
model served or scored later cannot disagree with the one that was trained.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted


class FramePreparer(TransformerMixin, BaseEstimator):
    """Select ``columns`` and encode them for LightGBM.

    Parameters
    ----------
    columns : feature names to use, in order; ``None`` means every column except ``drop``
    drop : columns never used as features (keys, dates)
    """

    def __init__(self, columns: list[str] | None = None,
                 drop: tuple[str, ...] = ("customer_id", "as_of")) -> None:
        self.columns = columns
        self.drop = drop

    def fit(self, X: pd.DataFrame, y: Any = None) -> FramePreparer:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"FramePreparer expects a pandas DataFrame, got {type(X).__name__}")
        cols = list(self.columns) if self.columns is not None else [
            c for c in X.columns if c not in self.drop]
        missing = [c for c in cols if c not in X.columns]
        if missing:
            raise ValueError(f"feature frame is missing column(s) {missing[:10]}")
        self.feature_names_in_ = np.array(cols, dtype=object)
        self.n_features_in_ = len(cols)
        self.categories_: dict[str, list[str]] = {}
        for c in cols:
            s = X[c]
            if _is_text(s):
                self.categories_[c] = sorted(str(v) for v in s.dropna().unique())
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "categories_")
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"FramePreparer expects a pandas DataFrame, got {type(X).__name__}")
        cols = list(self.feature_names_in_)
        missing = [c for c in cols if c not in X.columns]
        if missing:
            raise ValueError(f"input is missing feature column(s) {missing[:10]} "
                             f"({len(missing)} in all)")
        out = {}
        for c in cols:
            s = X[c]
            if c in self.categories_:
                out[c] = _encode(s, self.categories_[c])
            elif s.dtype == bool or str(s.dtype) == "boolean":
                out[c] = s.astype("float64")
            else:
                out[c] = pd.to_numeric(s, errors="coerce").astype("float64")
        return pd.DataFrame(out, index=X.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "categories_")
        return self.feature_names_in_.copy()


def _encode(s: pd.Series, categories: list[str]) -> pd.Categorical:
    """``s`` as a categorical over ``categories``, matching values by their text; unknown
    values and missing ones become missing. Factorizes once and maps the few distinct values,
    which is several times faster than converting every row to text first."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    pos = {v: i for i, v in enumerate(categories)}
    # one extra slot at the end: the missing sentinel -1 picks it and stays -1
    lut = np.array([pos.get(str(u), -1) for u in uniques] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(lut[codes], categories=categories)


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or str(s.dtype) in ("string", "str", "category") or \
        pd.api.types.is_string_dtype(s.dtype)
