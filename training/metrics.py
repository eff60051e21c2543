"""Ranking and calibration metrics used by training, evaluation and the experiment command.

Capture in the top 10% is the figure partners feel: of everyone who went on to buy, how
many were in the tenth of the list they were told to call first.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def capture_at(score: np.ndarray, label: np.ndarray, share: float = 0.1) -> float:
    """Share of all positives ranked in the top ``share`` of rows by ``score`` (NaN if none)."""
    score = np.asarray(score, float)
    label = np.asarray(label, bool)
    if label.sum() == 0:
        return float("nan")
    k = int(np.ceil(share * len(score)))
    top = np.argsort(-score, kind="stable")[:k]
    return float(label[top].sum() / label.sum())


def binary_metrics(label: np.ndarray, prob: np.ndarray,
                   groups: Mapping[str, np.ndarray] | None = None) -> dict[str, float]:
    """AUC, PR-AUC, top-10% capture, Brier and base rate; AUC per group when given.

    Metrics that are undefined (one class only) are NaN rather than an exception, so a
    report over many small slices never fails on one of them.
    """
    y = np.asarray(label, bool)
    p = np.asarray(prob, float)
    out: dict[str, float] = {"rows": float(len(y)), "positives": float(y.sum()),
                             "base_rate": float(y.mean()) if len(y) else float("nan")}
    both = 0 < y.sum() < len(y)
    out["auc"] = float(roc_auc_score(y, p)) if both else float("nan")
    out["pr_auc"] = float(average_precision_score(y, p)) if both else float("nan")
    out["capture_top10"] = capture_at(p, y, 0.1)
    out["brier"] = float(brier_score_loss(y, np.clip(p, 0, 1))) if len(y) else float("nan")
    for name, g in (groups or {}).items():
        g = np.asarray(g)
        for value in sorted(set(g.tolist())):
            m = g == value
            ok = 0 < y[m].sum() < m.sum()
            key = f"auc_{name}_{str(value).lower().replace(' ', '_')}"
            out[key] = float(roc_auc_score(y[m], p[m])) if ok else float("nan")
    return out


def lift_table(label: np.ndarray, prob: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Per decile of score (highest first): rows, positives, rate, lift and cumulative capture."""
    y = np.asarray(label, bool)
    order = np.argsort(-np.asarray(prob, float), kind="stable")
    chunks = np.array_split(order, bins)
    base = y.mean() if len(y) else float("nan")
    out, cum = [], 0
    for i, c in enumerate(chunks, 1):
        pos = int(y[c].sum())
        cum += pos
        rate = pos / len(c) if len(c) else float("nan")
        out.append({"decile": i, "rows": len(c), "positives": pos, "rate": rate,
                    "lift": rate / base if base else float("nan"),
                    "cumulative_capture": cum / y.sum() if y.sum() else float("nan")})
    return out


def lift_chart(label: np.ndarray, prob: np.ndarray, title: str, path: str,
               reference: np.ndarray | None = None) -> str:
    """Write a gains chart (cumulative capture by decile) with lift bars as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = lift_table(label, prob)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    x = [r["decile"] * 10 for r in rows]
    ax1.plot([0, *x], [0, *[r["cumulative_capture"] for r in rows]], marker="o", label="model")
    if reference is not None:
        ref = lift_table(label, reference)
        ax1.plot([0, *x], [0, *[r["cumulative_capture"] for r in ref]], marker=".",
                 linestyle="--", label="oracle")
    ax1.plot([0, 100], [0, 1], color="grey", linestyle=":", label="random")
    ax1.set_xlabel("% of customers contacted (highest score first)")
    ax1.set_ylabel("share of buyers reached")
    ax1.set_title("Gains")
    ax1.legend()
    ax2.bar([r["decile"] for r in rows], [r["lift"] for r in rows])
    ax2.axhline(1.0, color="grey", linestyle=":")
    ax2.set_xlabel("score decile (1 = highest)")
    ax2.set_ylabel("lift over base rate")
    ax2.set_title("Lift by decile")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
