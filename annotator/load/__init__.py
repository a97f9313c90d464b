"""Load: read a folder of articles (text, Markdown, HTML, JSONL) into exact text plus metadata."""
