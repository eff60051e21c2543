"""evaluation stage (built by a later issue)."""
