"""Main text of an HTML page, with the standard library parser (no network, no JS).

Block elements become paragraphs; script, style, nav, header, footer, aside, form and
the like are dropped. Offsets of a record refer to this extracted text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "svg",
    "iframe",
    "button",
    "template",
    "head",
}
_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "blockquote",
    "br",
    "tr",
    "figcaption",
    "pre",
    "title",
}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.title: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        if tag == "title":
            self._in_title = True
        if tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skip_depth:
            self.skip_depth -= 1
        if tag == "title":
            self._in_title = False
        if tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title and self.title is None:
            self.title = data.strip() or None
        if not self.skip_depth:
            self.parts.append(data)


def html_to_text(raw: str) -> str:
    parser = _TextCollector()
    parser.feed(raw)
    parser.close()
    text = "".join(parser.parts)
    paragraphs = [re.sub(r"[ \t\r\f\v]+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    body = "\n\n".join(p for p in paragraphs if p)
    if parser.title and not body.startswith(parser.title):
        body = f"# {parser.title}\n\n{body}"
    return body
