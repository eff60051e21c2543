"""How much of the oracle's top-10% capture the features can reach at all (sandbox lakes only).

The intent target of issue 5 compares the model's capture in the top 10% with the oracle's,
whose score uses the hidden intent of the cut-off month *and of the two months after it*
(events that have not happened yet at the cut-off). This script measures, on the same
backtest rows (:func:`training.backtest.backtest_scores`), four scorers side by side:

- ``model``: the intent model, trained exactly as the monthly job trains it;
- ``oracle``: the true 3-month purchase probability (``truth/purchase_probability``);
- ``state``: the true purchase probability of the cut-off month alone (everything a perfect
  observer could know at the cut-off, hidden taste and intent included);
- ``observable``: a LightGBM regression of the hidden purchase logit at the cut-off
  (``bias + fit + intent``, read from the market generator) on the feature table,
  cross-validated by customer: an estimate of what the features can say about the truth
  when the truth itself is the label, which no model trained on purchases can beat by much.

The hidden state is recomputed by re-running the lake's market generator (same spec, so the
same market) with an observer; nothing is read from the exported tables that a model could
not see, except ``truth/``. Prints one row per product; takes a few minutes at 5,000
companies::

    python benchmarks/intent_ceiling.py --lake LAKE --months 2026-06,2026-07,2026-08
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time

import numpy as np
import pandas as pd


def hidden_logits(lake_root: str, months: list[str]) -> pd.DataFrame:
    """``bias + fit + intent`` per (month, customer_id, product) at each month's cut-off."""
    from propensity.lake import Lake
    from propensity.settings import SandboxSettings
    from sandbox.market import PI, MarketGenerator, market_spec

    spec = market_spec(Lake(lake_root), SandboxSettings())
    seen: dict[str, np.ndarray] = {}

    def observe(month: str, g: MarketGenerator) -> None:
        if month in months:
            seen[month] = g.bias + g.fit_logit() + g.intent

    gen = MarketGenerator(spec)
    with tempfile.TemporaryDirectory() as scratch:
        gen.run(Lake(scratch), observer=observe)
    frames = [pd.DataFrame({"month": m, "customer_id": gen.customer_ids, "product": p,
                            "logit": seen[m][:, j]})
              for m in months for p, j in PI.items()]
    return pd.concat(frames, ignore_index=True)


def observable(lake_root: str, logits: pd.DataFrame, folds: int = 5) -> pd.DataFrame:
    """Cross-validated prediction of the hidden logit from each month's feature table."""
    import lightgbm as lgb
    from sklearn.model_selection import KFold

    from propensity.lake import Lake

    out = []
    for (month, product), g in logits.groupby(["month", "product"], sort=False):
        if product == "renewal":
            continue
        feats = Lake(lake_root).read("features", month=month).to_pandas()
        feats = feats.set_index("customer_id").loc[g["customer_id"].to_numpy()]
        X = feats.select_dtypes(include=["number", "bool"]).astype(float).to_numpy()
        y = g["logit"].to_numpy()
        pred = np.zeros(len(y))
        for tr, te in KFold(folds, shuffle=True, random_state=0).split(X):
            reg = lgb.LGBMRegressor(n_estimators=400, learning_rate=0.05, num_leaves=31,
                                    verbose=-1).fit(X[tr], y[tr])
            pred[te] = reg.predict(X[te])
        out.append(g[["month", "customer_id", "product"]].assign(observable=pred))
    return pd.concat(out, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lake", required=True, help="a sandbox lake with features and labels")
    ap.add_argument("--months", required=True, help="backtest cut-offs, comma-separated")
    ap.add_argument("--products", default="", help="comma-separated (default: all)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from propensity import contracts as C
    from propensity.lake import Lake
    from propensity.settings import load_settings
    from training.backtest import backtest_scores, pooled_capture

    months = args.months.split(",")
    products = args.products.split(",") if args.products else list(C.PRODUCTS)
    t0 = time.perf_counter()
    lake = Lake(args.lake)
    scores = backtest_scores(lake, load_settings(lake=args.lake), months, products)
    scores = scores.astype({"customer_id": str})
    truth = pd.concat([lake.read(C.PURCHASE_PROBABILITY, month=m).to_pandas()
                       .astype({"customer_id": str, "product": str})
                       [["customer_id", "product", "probability"]]
                       .rename(columns={"probability": "state"}).assign(month=m)
                       for m in months])
    logits = hidden_logits(args.lake, months)
    logits = logits[logits["product"].isin(products)]
    scores = (scores.merge(truth, on=["month", "customer_id", "product"], how="left")
              .merge(observable(args.lake, logits), on=["month", "customer_id", "product"],
                     how="left"))
    rows = []
    for product, g in scores.groupby("product", sort=False):
        cap = {c: pooled_capture(g, c) for c in ("model", "oracle", "state", "observable")}
        rows.append({"product": product, "buyers": int(g["label"].sum()),
                     **{f"{c}_capture": round(v, 3) for c, v in cap.items()},
                     "model/oracle": round(cap["model"] / cap["oracle"], 2),
                     "state/oracle": round(cap["state"] / cap["oracle"], 2),
                     "observable/oracle": round(cap["observable"] / cap["oracle"], 2)})
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"seconds: {time.perf_counter() - t0:.0f}")


if __name__ == "__main__":
    main()
