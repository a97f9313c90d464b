"""A rules extractor that never finishes on one article: the time budget's test double."""

from __future__ import annotations

import time

from annotator.extract.rules.extract import extract_rules
from annotator.extract.schema import Extraction
from annotator.load.articles import Article


def extract_or_stall(article: Article) -> Extraction:
    if "STALL" in article.text:
        time.sleep(3600)
    return extract_rules(article)
