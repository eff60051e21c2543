"""A firmographics-only baseline, to show that intent is what separates a model from the oracle.

It fits one gradient-boosted classifier per product on the companies table alone (size,
subsegment, industry, vertical, country, ACR) with labels from earlier cut-offs, and scores a
later cut-off. The oracle on the same rows is the ceiling; the gap is what web signals and
install base must close.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity import contracts as C
from propensity.lake import Lake
from sandbox.oracle import oracle_scores, purchase_labels

FIRMOGRAPHIC_COLUMNS = ("employees", "subsegment", "industry", "vertical", "country",
                        "acr_monthly_usd", "org_size")


def _frame(lake: Lake, month: str, companies: pd.DataFrame) -> pd.DataFrame:
    truth = oracle_scores(lake, month)
    truth = truth[truth["eligible"]]
    df = truth.merge(purchase_labels(lake, month), on=["customer_id", "product"], how="left")
    df["label"] = df["label"].astype("boolean").fillna(False).astype(bool)
    return df.merge(companies, on="customer_id", how="left")


def firmographic_vs_oracle(lake: Lake, train_months: list[str], test_month: str
                           ) -> pd.DataFrame:
    """Per product: test AUC of a firmographics-only model and of the oracle, same rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    comp = lake.read(C.COMPANIES).to_pandas()[["customer_id", *FIRMOGRAPHIC_COLUMNS]]
    for col in ("subsegment", "industry", "vertical", "country", "org_size"):
        comp[col] = comp[col].astype("category")
    train = pd.concat([_frame(lake, m, comp) for m in train_months], ignore_index=True)
    test = _frame(lake, test_month, comp)
    rows = []
    for p in C.PRODUCTS:
        tr, te = train[train["product"] == p], test[test["product"] == p]
        if tr["label"].nunique() < 2 or te["label"].nunique() < 2:
            continue
        model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05,
                                               categorical_features="from_dtype", random_state=0)
        model.fit(tr[list(FIRMOGRAPHIC_COLUMNS)], tr["label"])
        s = model.predict_proba(te[list(FIRMOGRAPHIC_COLUMNS)])[:, 1]
        rows.append({"product": p, "positives": int(te["label"].sum()),
                     "firmographic_auc": float(roc_auc_score(te["label"], s)),
                     "oracle_auc": float(roc_auc_score(te["label"], te["probability"])),
                     "oracle_auc_check": float(np.nan)})
    out = pd.DataFrame(rows).drop(columns=["oracle_auc_check"])
    return out
