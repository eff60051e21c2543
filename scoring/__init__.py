"""Scoring: 0-100 fit and intent scores, classes, cells, clusters, revenue, reasons, reports.

Public entry points: :func:`scoring.scores.score_frame` (fitted models x a feature table ->
the ``scores`` contract), :func:`scoring.batch.score_month` (the monthly batch from the
registry's champions), :func:`scoring.batch.score_new_company` (on demand),
:func:`scoring.monthly.run_monthly` (the whole monthly job) and :mod:`scoring.publish`.
"""

from __future__ import annotations

from typing import Any


def score_frame(*args: Any, **kwargs: Any) -> Any:
    """See :func:`scoring.scores.score_frame`."""
    from scoring.scores import score_frame as run

    return run(*args, **kwargs)


def score_new_company(*args: Any, **kwargs: Any) -> Any:
    """See :func:`scoring.batch.score_new_company`."""
    from scoring.batch import score_new_company as run

    return run(*args, **kwargs)


__all__ = ["score_frame", "score_new_company"]
