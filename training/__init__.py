"""training stage (built by a later issue)."""
