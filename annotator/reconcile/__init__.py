"""Reconcile: merge per-article records into one event summary (pure, deterministic)."""
