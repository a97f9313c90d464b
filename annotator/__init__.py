"""annotate: provenance-linked claim and stance annotations for news articles."""

__version__ = "0.1.0"
