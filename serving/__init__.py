"""serving stage (built by a later issue)."""
