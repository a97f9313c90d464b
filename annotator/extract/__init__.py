"""Extract: turn one article into claims, speakers, sources and stances.

Two backends share the model-facing schema in `schema.py`: `llm` (an OpenAI-compatible
endpoint) and `rules` (offline news-attribution patterns)."""
