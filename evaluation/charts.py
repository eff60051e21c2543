"""PNG charts of the evaluation report: gains, calibration, win rate by cluster, scores, drift.

Each function takes plain arrays or tables, writes one PNG and returns its path. Matplotlib
is switched to its file backend inside the functions, never at import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.stats import calibration_table
from propensity.contracts import CLUSTERS

COLOURS = {"model": "#1f77b4", "oracle": "#2ca02c", "firmographic": "#ff7f0e",
           "recent_signal": "#9467bd", "random": "grey"}
CLUSTER_COLOURS = {"Act now": "#c0392b", "Evaluate": "#e67e22", "Nurture": "#f1c40f",
                   "Educate": "#95a5a6"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(n: int, width: float = 4.0, height: float = 3.2):
    plt = _plt()
    cols = min(n, 3)
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return plt, fig, list(axes.flat)


def gains_curve(label: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x: share of customers contacted (highest score first); y: share of buyers reached."""
    y = np.asarray(label, bool)
    order = np.argsort(-np.asarray(score, float), kind="stable")
    cum = np.concatenate([[0], np.cumsum(y[order])]) / max(int(y.sum()), 1)
    x = np.arange(len(y) + 1) / max(len(y), 1)
    return x, cum


def gains_chart(label: np.ndarray, scores: Mapping[str, np.ndarray], title: str,
                path: str | Path) -> Path:
    """Cumulative gains of every scorer in ``scores`` (model, oracle, baselines) on one axis."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for name, s in scores.items():
        x, y = gains_curve(label, s)
        ax.plot(100 * x, y, label=name, color=COLOURS.get(name))
    ax.plot([0, 100], [0, 1], color="grey", linestyle=":", label="random")
    ax.axvline(10, color="black", linewidth=0.6, linestyle="--")
    ax.set_xlabel("% of eligible customers contacted (highest score first)")
    ax.set_ylabel("share of buyers reached")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


def calibration_chart(label: np.ndarray, probs: Mapping[str, np.ndarray], title: str,
                      path: str | Path) -> Path:
    """Reliability diagram: observed buying rate against mean predicted, per scorer."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    top = 0.0
    for name, p in probs.items():
        t = calibration_table(label, p)
        ax.plot(t["predicted"], t["observed"], marker="o", label=name, color=COLOURS.get(name))
        top = max(top, float(t["predicted"].max()), float(t["observed"].max()))
    top = top * 1.05 or 1.0
    ax.plot([0, top], [0, top], color="grey", linestyle=":", label="perfect")
    ax.set_xlabel("mean predicted probability (decile of prediction)")
    ax.set_ylabel("observed share that bought")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


def win_rate_chart(rates: pd.DataFrame, title: str, path: str | Path) -> Path:
    """Win rate per cluster with its interval, one panel per product (``win_rates`` output)."""
    products = sorted(rates["product"].unique())
    plt, fig, axes = _grid(len(products))
    for ax, product in zip(axes, products, strict=False):
        d = rates[rates["product"] == product].set_index("group").reindex(list(CLUSTERS))
        x = np.arange(len(CLUSTERS))
        v = 100 * d["win_rate"].fillna(0).to_numpy()
        err = 100 * np.clip(np.vstack([(d["win_rate"] - d["low"]).fillna(0).to_numpy(),
                                       (d["high"] - d["win_rate"]).fillna(0).to_numpy()]),
                            0, None)  # rounding can leave -1e-17 at a rate of 0 or 1
        ax.bar(x, v, yerr=err, capsize=4,
               color=[CLUSTER_COLOURS[c] for c in CLUSTERS], edgecolor="black", linewidth=0.4)
        ax.set_xticks(x, [f"{c}\nn={int(n)}" for c, n in zip(CLUSTERS, d["rows"].fillna(0),
                                                            strict=True)], fontsize=7)
        ax.set_ylabel("bought within 3 months (%)")
        ax.set_title(product)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


def score_distribution_chart(scored: pd.DataFrame, title: str, path: str | Path) -> Path:
    """Intent score histograms of buyers and non-buyers, one panel per product."""
    products = sorted(scored["product"].unique())
    plt, fig, axes = _grid(len(products))
    bins = np.linspace(0, 100, 21)
    for ax, product in zip(axes, products, strict=False):
        d = scored[scored["product"] == product]
        for flag, name, colour in ((False, "did not buy", "#95a5a6"), (True, "bought", "#c0392b")):
            s = d.loc[d["label"] == flag, "intent_score"].dropna().to_numpy(float)
            if len(s):
                ax.hist(s, bins=bins, density=True, alpha=0.55, label=f"{name} (n={len(s)})",
                        color=colour)
        for edge in (30, 55, 75):
            ax.axvline(edge, color="black", linewidth=0.5, linestyle="--")
        ax.set_xlabel("intent score")
        ax.set_ylabel("density")
        ax.set_title(product)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


def psi_chart(drift: pd.DataFrame, value: str, title: str, path: str | Path,
              warn: float, alert: float) -> Path:
    """PSI by month, one line per ``value`` (e.g. product or feature), with the thresholds."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    months = sorted(drift["month"].unique())
    pos = {m: i for i, m in enumerate(months)}
    for key, d in drift.groupby(value, sort=True):
        ax.plot([pos[m] for m in d["month"]], d["psi"], marker=".", label=str(key))
    ax.set_xticks(range(len(months)), months)
    ax.axhline(warn, color="#e67e22", linestyle="--", linewidth=0.8, label=f"moderate ({warn})")
    ax.axhline(alert, color="#c0392b", linestyle="--", linewidth=0.8, label=f"shifted ({alert})")
    ax.set_ylabel("PSI against the month before")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


def coverage_chart(coverage: pd.DataFrame, title: str, path: str | Path) -> Path:
    """Recent signals per company and the share of companies without one, by month."""
    plt = _plt()
    fig, ax1 = plt.subplots(figsize=(7, 3.6))
    x = np.arange(len(coverage))
    ax1.plot(x, coverage["signals_per_company"], marker="o", color="#1f77b4")
    ax1.set_xticks(x, coverage["month"].tolist())
    ax1.set_ylabel("recent signals per company", color="#1f77b4")
    ax2 = ax1.twinx()
    ax2.plot(x, 100 * coverage["no_signal_share"], marker="s", color="#c0392b")
    ax2.set_ylabel("% of companies with no recent signal", color="#c0392b")
    ax1.tick_params(axis="x", rotation=45)
    ax1.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)
