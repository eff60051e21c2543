"""scoring stage (built by a later issue)."""
