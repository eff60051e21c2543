"""The one settings object every stage receives.

Values come, highest priority first, from: explicit keyword arguments (the CLI's flags),
environment variables ``PROPENSITY_*`` (nested with ``__``, e.g.
``PROPENSITY_SANDBOX__COMPANIES=500``), a TOML file (``$PROPENSITY_CONFIG`` or
``./propensity.toml``), then the defaults below. Nothing is read or created at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from propensity.contracts import PRODUCTS, check_product
from propensity.months import parse_month


class WebFaults(BaseModel):
    """Fault rates of the synthetic web: the share of requests or pages that misbehave."""

    not_found: float = Field(0.02, ge=0, le=1, description="links that answer 404")
    server_error: float = Field(0.02, ge=0, le=1, description="requests answered 500 (transient)")
    slow: float = Field(0.01, ge=0, le=1, description="responses delayed by slow_seconds")
    slow_seconds: float = Field(1.5, ge=0, description="delay of a slow response")
    redirect_chain: float = Field(0.03, ge=0, le=1, description="links behind a redirect chain")
    bad_charset: float = Field(0.05, ge=0, le=1, description="pages with a wrong or no charset")
    oversized: float = Field(0.005, ge=0, le=1, description="pages padded past oversized_bytes")
    oversized_bytes: int = Field(3_000_000, ge=1, description="size of an oversized page")
    robots_disallow: float = Field(0.1, ge=0, le=1, description="sites whose robots.txt disallows a section")
    trap: float = Field(0.05, ge=0, le=1, description="sites with an endless events calendar")


class SandboxSettings(BaseModel):
    """Size and shape of the synthetic market and web."""

    companies: int = Field(5000, ge=10, description="number of companies")
    months: int = Field(24, ge=4, description="months of history")
    end_month: str = Field("2026-10", description="last month of history (YYYY-MM)")
    seed: int = Field(42, description="random seed; same seed, same market")
    faults: WebFaults = Field(default_factory=WebFaults)
    press_host: str = "www.prwirehub.com"
    forum_host: str = "community.itprotalk.net"
    social_host: str = "api.chirpstream.io"

    @field_validator("end_month")
    @classmethod
    def _month(cls, v: str) -> str:
        parse_month(v)
        return v


class CrawlSettings(BaseModel):
    """Where the crawl starts besides the companies' own domains (one list per kind)."""

    press_feeds: list[str] = ["http://www.prwirehub.com/feed.xml"]
    forum_indexes: list[str] = ["http://community.itprotalk.net/latest"]
    social_apis: list[str] = ["http://api.chirpstream.io/v1/posts"]
    proxy: str | None = None


class FeatureSettings(BaseModel):
    """The features stage."""

    workers: int = Field(2, ge=1, description=(
        "months built side by side when several are missing (one process each, DuckDB "
        "engine): 2 fills a 2-core machine on the default market; each worker holds its own "
        "engine memory (about 6.5 GiB at 1M companies), so keep 1 on large books"))


class TrainingSettings(BaseModel):
    """Model training, tracking and promotion."""

    tracking_uri: str | None = Field(None, description="MLflow tracking URI; default SQLite "
                                     "under <lake>/mlflow")
    train_months: int = Field(12, ge=2, description="cut-off months of history per training set")
    calibration_share: float = Field(0.25, gt=0, lt=1, description="latest share of training "
                                     "months used to calibrate")
    negative_rate: float = Field(1.0, gt=0, le=1, description="share of non-buyers (intent) "
                                 "and unlabeled rows (fit) the models learn from, each "
                                 "weighted by its inverse; below 1 for large books (1M "
                                 "companies), where intent rows are also sampled at read time")
    calibration_max_rows: int | None = Field(200_000, ge=1000, description="most rows the "
                                             "intent model's calibration pre-fit learns from "
                                             "(non-buyers sampled, weighted, above it); the "
                                             "final model learns from every row; none: no cap")
    promotion_metric: str = Field("capture_top10", description="metric the champion gate compares")
    promotion_margin: float = Field(0.01, ge=0, description="absolute margin a challenger must win by")
    fit_refresh_months: tuple[int, ...] = Field((1, 4, 7, 10), description="months in which the "
                                                "quarterly fit model is retrained")
    lgbm: dict[str, Any] = Field(default_factory=dict, description="overrides of the LightGBM "
                                 "defaults (training/estimators.py DEFAULT_LGBM), e.g. "
                                 "{n_estimators = 100}")
    intent_lgbm: dict[str, Any] = Field(default_factory=dict, description="overrides for the "
                                        "intent model only, applied after its defaults "
                                        "(training/estimators.py INTENT_LGBM) and `lgbm`")


class EvaluationSettings(BaseModel):
    """Backtests, cluster verification and drift: what counts as enough volume and as drift."""

    experiment: str = Field("propensity-evaluation", description="MLflow experiment of "
                            "evaluation runs (never moves a champion alias)")
    confidence: float = Field(0.95, gt=0, lt=1, description="level of every confidence interval")
    min_cluster_rows: int = Field(50, ge=1, description="customers a cluster needs in a replay "
                                  "to take part in the cluster-order check")
    min_product_buyers: int = Field(30, ge=1, description="buyers a product needs in a replay "
                                    "for its cluster order to be checked")
    psi_warn: float = Field(0.1, ge=0, description="PSI from which a shift is reported as moderate")
    psi_alert: float = Field(0.25, ge=0, description="PSI from which a shift is flagged")
    top_features: int = Field(10, ge=1, description="features (by model importance) whose PSI "
                              "is tracked")
    no_signal_share_max: float = Field(0.9, ge=0, le=1, description="flag a month when more "
                                       "companies than this have no signal in 90 days")
    coverage_change_max: float = Field(0.3, ge=0, description="flag a relative change of signals "
                                       "per company larger than this between months")
    label_lag_max_months: int = Field(4, ge=0, description="flag when the newest labelled "
                                      "cut-off is more than this many months behind the newest "
                                      "features")


class ServingSettings(BaseModel):
    """The partner-facing HTTP service: limits, key store and workers."""

    keys_db: Path | None = Field(None, description="SQLite file of hashed API keys; default "
                                 "<lake>/serving/keys.sqlite")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="largest request body of a "
                                "JSON endpoint; larger bodies get 413")
    max_upload_bytes: int = Field(20_000_000, ge=1024, description="largest CRM upload (the "
                                  "CSV text in the request body); larger gets 413")
    max_upload_rows: int = Field(200_000, ge=1, description="most CRM accounts in one upload")
    max_lookup_ids: int = Field(10_000, ge=1, description="most customer ids in one look-up")
    fuzzy_min_score: float = Field(88.0, ge=0, le=100, description="lowest rapidfuzz score "
                                   "(0-100) for a fuzzy name match")
    workers: int = Field(1, ge=1, description="server worker processes")
    threads: int = Field(8, ge=1, description="threads per worker for blocking endpoints "
                         "(downloads, matching, on-demand scoring)")
    reload_check_seconds: float = Field(1.0, ge=0, description="how often, at most, the "
                                        "published index's mtime is checked")
    access_log: bool = Field(True, description="log one line per request")
    metrics: bool = Field(True, description="Prometheus metrics at /metrics")


class ScoringSettings(BaseModel):
    """Scores, clusters, deal sizes and reasons.

    Deal size (expected revenue = probability x deal size): the median amount of the won
    opportunities for the product in the customer's subsegment, closed in the
    ``deal_size_lookback_months`` before the cut-off, when at least ``deal_size_min_wins``
    exist; otherwise the product's default below (USD, by subsegment). For renewal the deal
    size is the customer's revenue due on the agreement that ends within 90 days.
    """

    clusters: dict[str, str] = Field(
        {"A": "Act now", "B": "Evaluate", "C": "Nurture", "D": "Educate"},
        description="cluster of each intent letter (A High .. D Very low)")
    deal_size_lookback_months: int = Field(24, ge=1)
    deal_size_min_wins: int = Field(20, ge=1)
    deal_size_usd: dict[str, dict[str, float]] = Field(
        {
            "azure": {"Very small": 3000.0, "Medium": 12000.0, "Upper medium": 40000.0},
            "m365": {"Very small": 1500.0, "Medium": 9000.0, "Upper medium": 45000.0},
            "copilot": {"Very small": 1800.0, "Medium": 10000.0, "Upper medium": 50000.0},
            "d365_bc": {"Very small": 4000.0, "Medium": 15000.0, "Upper medium": 40000.0},
            "d365_sales_pro": {"Very small": 2500.0, "Medium": 12000.0, "Upper medium": 35000.0},
            "power_apps": {"Very small": 1200.0, "Medium": 6000.0, "Upper medium": 20000.0},
            "surface": {"Very small": 3000.0, "Medium": 15000.0, "Upper medium": 60000.0},
            "security_e5": {"Very small": 2000.0, "Medium": 14000.0, "Upper medium": 60000.0},
            "renewal": {"Very small": 5000.0, "Medium": 20000.0, "Upper medium": 80000.0},
        },
        description="fallback deal size per product and subsegment, USD")
    reasons: int = Field(3, ge=1, le=10, description="reasons per score")
    batch_rows: int = Field(50_000, ge=1000, description="rows per scoring batch (bounds "
                            "the memory of per-row contributions)")
    chunk_rows: int = Field(100_000, ge=1000, description="rows scored and written at a time "
                            "by the monthly batch (bounds its memory); percentiles are always "
                            "those of the whole month")
    attribution: Literal["path", "treeshap"] = Field(
        "path", description="per-row contributions reasons are built from: 'path' (the "
        "decision-path attribution of scoring/attribution.py, about as fast as a prediction) "
        "or 'treeshap' (LightGBM pred_contrib, exact Shapley values, ~0.7 ms per row and "
        "model). One method everywhere, so a company's reasons do not depend on how many "
        "rows were scored with it (batch, Spark partition or on demand)")
    schedule: str = Field("0 6 25 * *", description="cron line of the monthly job (the 25th)")

    @field_validator("clusters")
    @classmethod
    def _letters(cls, v: dict[str, str]) -> dict[str, str]:
        if sorted(v) != ["A", "B", "C", "D"]:
            raise ValueError(f"clusters must map exactly the letters A-D, got {sorted(v)}")
        return v


class Settings(BaseSettings):
    """All configuration of one propensity installation."""

    model_config = SettingsConfigDict(
        env_prefix="PROPENSITY_", env_nested_delimiter="__", extra="ignore"
    )

    lake: Path = Field(Path("lake"), description="root folder of the lake")
    products: tuple[str, ...] = Field(PRODUCTS, description="products to model and score")
    seed: int = Field(42, description="seed for everything that samples")
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)

    @field_validator("products", mode="before")
    @classmethod
    def _products(cls, v: Any) -> tuple[str, ...]:
        items = v.split(",") if isinstance(v, str) else list(v)
        return tuple(check_product(str(p).strip()) for p in items if str(p).strip())

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("PROPENSITY_CONFIG", "propensity.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        elif "PROPENSITY_CONFIG" in os.environ:
            raise FileNotFoundError(f"PROPENSITY_CONFIG points at {toml_path}, which does not exist")
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, with ``overrides`` (None values ignored) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
