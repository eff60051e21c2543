"""MLflow wiring: tracking store, experiments, registered models and the champion alias.

By default MLflow uses a SQLite backend store at ``<lake>/mlflow/mlflow.db`` and keeps
artifacts under ``<lake>/mlflow/artifacts``; any tracking URI works through settings
(``PROPENSITY_MLFLOW__TRACKING_URI``). Models are registered as
``propensity-<product>-<kind>`` and scoring loads ``models:/<name>@champion``.

Promotion policy (documented here because the registry enforces it): a newly trained model
(the challenger) and the current champion are scored on the *same* backtest rows; the alias
moves only if the challenger's metric (``capture_top10`` by default, ties broken by AUC)
beats the champion's by at least ``promotion_margin`` (absolute, default 0.01). With no
champion, the first model becomes champion. ``promote`` and ``rollback`` move the alias by
hand; every move is recorded in the registered model's ``champion_history`` tag, so a
rollback returns to the previous champion.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHAMPION = "champion"
# Types a logged pipeline may contain; skops refuses to load anything else (no pickle).
SKOPS_TRUSTED = [
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "training.estimators.PULookalikeClassifier",
    "training.estimators.TimeCalibratedClassifier",
    "training.estimators._Sigmoid",
    "training.prep.FramePreparer",
]
HISTORY_TAG = "champion_history"


def model_name(product: str, kind: str) -> str:
    """Registered model name for a product and a model kind (fit or intent)."""
    if kind not in ("fit", "intent"):
        raise ValueError(f"model kind must be fit or intent, got {kind!r}")
    return f"propensity-{product}-{kind}"


def tracking_uri(lake_root: str | Path, configured: str | None = None) -> str:
    """The configured URI, else SQLite under the lake (created on demand)."""
    if configured:
        return configured
    root = Path(lake_root).resolve() / "mlflow"
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlflow.db'}"


def artifact_root(lake_root: str | Path) -> str:
    return (Path(lake_root).resolve() / "mlflow" / "artifacts").as_uri()


def use_tracking(lake_root: str | Path, configured: str | None = None) -> Any:
    """Point MLflow at the store and return an ``MlflowClient`` for it."""
    import mlflow
    from mlflow import MlflowClient

    uri = tracking_uri(lake_root, configured)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def ensure_experiment(client: Any, name: str, lake_root: str | Path) -> str:
    """Experiment id for ``name``, creating it with artifacts under the lake."""
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    return client.create_experiment(name, artifact_location=f"{artifact_root(lake_root)}/{name}")


@dataclass
class Champion:
    name: str
    version: str
    run_id: str


def get_champion(client: Any, name: str) -> Champion | None:
    """The model version behind the champion alias, or None."""
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None
    return Champion(name, str(mv.version), mv.run_id)


def _history(client: Any, name: str) -> list[str]:
    rm = client.get_registered_model(name)
    raw = (rm.tags or {}).get(HISTORY_TAG)
    return json.loads(raw) if raw else []


def set_champion(client: Any, name: str, version: str | int, reason: str) -> None:
    """Move the champion alias to ``version`` and append it to the history tag."""
    version = str(version)
    client.get_model_version(name, version)  # raises if the version does not exist
    client.set_registered_model_alias(name, CHAMPION, version)
    hist = _history(client, name)
    if not hist or hist[-1] != version:
        hist.append(version)
    client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(hist))
    client.set_model_version_tag(name, version, "promotion_reason", reason)
    log.info("%s: champion -> version %s (%s)", name, version, reason)


def rollback(client: Any, name: str) -> str:
    """Return the champion alias to the previous champion; returns that version."""
    hist = _history(client, name)
    current = get_champion(client, name)
    if current is not None and hist and hist[-1] == current.version:
        hist = hist[:-1]
    if not hist:
        raise ValueError(f"{name}: no previous champion to roll back to")
    previous = hist[-1]
    client.set_registered_model_alias(name, CHAMPION, previous)
    client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(hist))
    log.info("%s: rolled back champion to version %s", name, previous)
    return previous


def challenger_wins(challenger: dict[str, float], champion: dict[str, float] | None,
                    metric: str = "capture_top10", margin: float = 0.01) -> tuple[bool, str]:
    """Apply the promotion gate; returns (promote?, reason in plain words)."""
    if champion is None:
        return True, "first model: no champion yet"
    c, k = challenger.get(metric, float("nan")), champion.get(metric, float("nan"))
    if k != k:  # champion metric undefined on this backtest
        return True, f"champion has no {metric} on this backtest"
    if c != c:
        return False, f"challenger has no {metric} on this backtest"
    if c >= k + margin:
        return True, f"{metric} {c:.4f} beats champion {k:.4f} by >= {margin}"
    if abs(c - k) < margin and challenger.get("auc", 0) >= champion.get("auc", 1) + margin:
        return True, (f"{metric} within margin ({c:.4f} vs {k:.4f}); AUC "
                      f"{challenger['auc']:.4f} beats {champion['auc']:.4f} by >= {margin}")
    return False, f"{metric} {c:.4f} does not beat champion {k:.4f} by {margin}"


def pip_requirements() -> list[str]:
    """The logged models' requirements, pinned to what is installed.

    Given explicitly so MLflow does not infer them, which costs a subprocess that re-imports
    the model at every ``log_model`` (seconds per model, most of a small run's time).
    """
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for dist in ("lightgbm", "scikit-learn", "skops", "pandas", "numpy", "scipy", "mlflow"):
        try:
            out.append(f"{dist}=={version(dist)}")
        except PackageNotFoundError:
            continue
    return out
