"""evaluation: backtests that replay months, cluster verification, drift, the report.

Evaluation reads every stage and writes only its report folder and its own MLflow runs.

Public API:

- :func:`evaluate` runs everything for ``--from``..``--to`` and returns an :class:`Evaluation`;
- :func:`replay` is the backtest alone (train before M, score M, join the 3-month outcome);
- :func:`backtest_metrics`, :func:`win_rates`, :func:`verify_order` turn a replay into figures;
- :func:`score_psi`, :func:`feature_psi`, :func:`crawler_coverage`, :func:`label_delay` measure
  drift between consecutive months; :func:`psi` and :func:`wilson` are the statistics.

The CLI command is :func:`evaluation.cli.evaluate` (``propensity evaluate``).
"""

from evaluation.backtest import BacktestError, Replay, replay
from evaluation.clusters import OrderCheck, verify_order, win_rates
from evaluation.drift import crawler_coverage, feature_psi, label_delay, score_psi
from evaluation.metrics import backtest_metrics, monthly_metrics
from evaluation.run import Evaluation, evaluate
from evaluation.stats import psi, wilson

__all__ = [
    "BacktestError",
    "Evaluation",
    "OrderCheck",
    "Replay",
    "backtest_metrics",
    "crawler_coverage",
    "evaluate",
    "feature_psi",
    "label_delay",
    "monthly_metrics",
    "psi",
    "replay",
    "score_psi",
    "verify_order",
    "wilson",
    "win_rates",
]
