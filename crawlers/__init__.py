"""crawlers stage (built by a later issue)."""
