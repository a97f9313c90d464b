"""The offline `rules` backend: sentences, clauses, attribution patterns, entities,
affirmative statements and stance cues, with no model."""
