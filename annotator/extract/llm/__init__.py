"""The `llm` backend: the network client, endpoint probe, prompts, extraction and stance calls."""
