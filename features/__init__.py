"""features stage: point-in-time feature tables and labels from the lake's raw tables and signals.

Public API:

- :func:`build_features` builds ``features/month=M`` (and ``labels/month=M``) on DuckDB or Spark;
- :class:`BuildReport` says what it wrote and quarantined;
- :func:`feature_catalogue` / :func:`features_contract` / :func:`labels_contract` describe the
  output tables; :class:`Policy` and :class:`InputValidationError` are the validation policy.

The CLI sub-app is :data:`features.cli.app` (``propensity features --month M``).
"""

from features.build import BuildReport, MissingInputError, build_features
from features.catalogue import feature_catalogue, features_contract, labels_contract
from features.validate import InputValidationError, Policy

__all__ = [
    "BuildReport",
    "InputValidationError",
    "MissingInputError",
    "Policy",
    "build_features",
    "feature_catalogue",
    "features_contract",
    "labels_contract",
]
