"""propensity: the spine package shared by every stage (CLI, settings, table contracts, lake)."""

__version__ = "0.1.0"
