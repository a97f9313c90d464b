"""Pipeline: `annotate run` orchestration, the answer cache, the manifest and progress display."""
