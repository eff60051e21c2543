"""features stage (built by a later issue)."""
