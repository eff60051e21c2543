"""The registry: champion gate, manual promotion and rollback on a real MLflow store."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from training import tracking as T


def _register(client, name: str) -> str:
    import mlflow

    X = np.random.default_rng(0).normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    with mlflow.start_run(experiment_id=T.ensure_experiment(client, "t", client._lake)):
        info = mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model",
                                        registered_model_name=name,
                                        serialization_format="skops")
    return str(info.registered_model_version)


def test_gate_promote_and_rollback(tmp_path):
    client = T.use_tracking(tmp_path)
    client._lake = tmp_path
    assert (tmp_path / "mlflow" / "mlflow.db").exists()
    name = T.model_name("azure", "intent")
    assert name == "propensity-azure-intent"
    with pytest.raises(ValueError):
        T.model_name("azure", "other")
    v1, v2, v3 = (_register(client, name) for _ in range(3))
    assert T.get_champion(client, name) is None
    ok, why = T.challenger_wins({"capture_top10": 0.3, "auc": 0.7}, None)
    assert ok and "first" in why
    T.set_champion(client, name, v1, why)
    assert T.get_champion(client, name).version == v1
    # a challenger must win by the margin on the same backtest
    assert not T.challenger_wins({"capture_top10": 0.305, "auc": 0.70},
                                 {"capture_top10": 0.30, "auc": 0.70}, margin=0.01)[0]
    assert T.challenger_wins({"capture_top10": 0.32, "auc": 0.70},
                             {"capture_top10": 0.30, "auc": 0.70}, margin=0.01)[0]
    assert T.challenger_wins({"capture_top10": 0.30, "auc": 0.75},
                             {"capture_top10": 0.30, "auc": 0.70}, margin=0.01)[0]
    T.set_champion(client, name, v2, "better")
    T.set_champion(client, name, v3, "by hand")
    assert T.rollback(client, name) == v2
    assert T.get_champion(client, name).version == v2
    assert T.rollback(client, name) == v1
    with pytest.raises(ValueError, match="no previous champion"):
        T.rollback(client, name)
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException):
        T.set_champion(client, name, "99", "missing version")
