"""Load articles from a folder: exact text (offsets refer to it), metadata read from the file.

Nothing here calls a model. Bad files become `InputError`s that name the file, and the
rest still load.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from annotator.core.errors import InputError
from annotator.core.lexicon import OUTLET_DOMAINS
from annotator.core.text import date_prefix

SUPPORTED_SUFFIXES = (".txt", ".md", ".jsonl", ".html", ".htm")
MAX_FILE_BYTES = 20 * 1024 * 1024
_ID_MAX = 96


@dataclass(frozen=True)
class Article:
    id: str  # safe to use as a file name; unique within a load
    path: str  # as found, relative to the input folder (plus ":<line>" for JSONL rows)
    text: str  # the exact text that spans refer to
    sha256: str  # of the text, UTF-8 encoded
    title: str | None = None
    outlet: str | None = None
    published: str | None = None
    url: str | None = None
    encoding: str = "utf-8"
    flags: tuple[str, ...] = ()


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unsupported files, one line each


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def safe_id(raw: str) -> str:
    """A file-name-safe id: letters (any script), digits, '.', '_', '-'; never a path."""
    s = unicodedata.normalize("NFC", raw)
    s = re.sub(r"[^\w.\-]+", "_", s, flags=re.UNICODE)
    s = s.strip("._-")[:_ID_MAX].rstrip("._-")
    return s or "article"


# ---------------------------------------------------------------- decoding


def decode_bytes(data: bytes, path: str) -> tuple[str, str]:
    """Return (text, encoding). Raises InputError for empty or binary content."""
    if not data.strip():
        raise InputError(path, "empty file, skipped")
    head = data[:8192]
    if b"\x00" in head and not (head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise InputError(path, "binary file (NUL bytes), not an article; skipped")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise InputError(path, "not UTF-8 and no text encoding detected; skipped")
    text = str(best)
    if _control_ratio(text) > 0.05:
        raise InputError(path, "binary file (decodes to control characters); skipped")
    return text, best.encoding


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return bad / len(text)


# ---------------------------------------------------------------- metadata

_URL_LINE = re.compile(r"\bOriginal url:\s*<?(\S*?)>?\s*$", re.IGNORECASE | re.MULTILINE)
_URL = re.compile(r"<?(https?://[^\s>]+)>?")
_MONTH_DATE = re.compile(
    r"^(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),\s+)?"
    r"((?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{1,2},\s+\d{4})\s*$"
)
# An outlet naming itself: "Follow Breitbart News's ...", "The Epoch Times contacted ..."
_SELF_REFERENCE = (
    re.compile(r"^Follow ((?:[A-Z][\w]+ ?){1,3})(?:’s|'s)\b", re.MULTILINE),
    re.compile(r"\b((?:The )?(?:[A-Z][\w]+ ){0,2}[A-Z][\w]+) contacted\b.{0,80}\bfor comment"),
)


def read_metadata(text: str) -> dict[str, str | None]:
    """Title, published date, url and outlet, from conventions in the file itself."""
    lines = [ln.strip() for ln in text.splitlines()]
    published = None
    m = date_prefix(text)
    if m:
        published = m.group("date")
    title = None
    for ln in lines:
        if ln.startswith("# "):
            title = ln[2:].strip()
            break
    head = [ln for ln in lines[:12] if ln]
    for ln in head:
        dm = _MONTH_DATE.match(ln)
        if dm:
            if published is None:
                published = datetime.strptime(dm.group(1), "%B %d, %Y").date().isoformat()
            continue
        if title is None and head.index(ln) < 4 and _looks_like_title(ln):
            title = ln
    url = None
    um = _URL_LINE.search(text)
    if um:
        url = um.group(1) or None
        if url is None:
            after = text[um.end() :].lstrip()
            nm = _URL.match(after)
            url = nm.group(1) if nm else None
    return {"title": title, "published": published, "url": url, "outlet": _outlet(url, text)}


def _looks_like_title(line: str) -> bool:
    bare = line.rstrip("\"'”’ ")
    if date_prefix(line) or len(line) > 160 or bare.endswith((".", ":", ",", ";")):
        return False
    return len(line.split()) >= 4 and line[0].isupper()


def _outlet(url: str | None, text: str) -> str | None:
    if url:
        host = re.sub(r"^https?://(www\.)?", "", url).split("/")[0].lower()
        for domain, name in OUTLET_DOMAINS.items():
            if host == domain or host.endswith("." + domain):
                return name
    for pattern in _SELF_REFERENCE:
        m = pattern.search(text)
        if m:
            return m.group(1).strip()
    return None


_INJECTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(previous|prior|above|earlier|all)\b.{0,40}"
    r"\b(instructions?|prompts?|rules)\b|\bsystem prompt\b|\byou are now\b",
    re.IGNORECASE | re.DOTALL,
)


def article_flags(text: str) -> tuple[str, ...]:
    """Flags a reviewer should see; the text is still annotated (as data, never as orders)."""
    return ("prompt_injection_text",) if _INJECTION.search(text) else ()


# ---------------------------------------------------------------- loading


def _make_article(aid: str, path: str, text: str, encoding: str) -> Article:
    meta = read_metadata(text)
    return Article(
        id=aid,
        path=path,
        text=text,
        sha256=text_sha256(text),
        title=meta["title"],
        outlet=meta["outlet"],
        published=meta["published"],
        url=meta["url"],
        encoding=encoding,
        flags=article_flags(text),
    )


def _html_text(raw: str) -> str:
    from annotator.load.html_text import html_to_text

    return html_to_text(raw)


def _load_jsonl(text: str, rel: str, stem: str, result: LoadResult) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{rel}:{lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            result.errors.append(InputError(where, f"invalid JSON ({exc.msg}); row skipped"))
            continue
        body = row.get("text") if isinstance(row, dict) else None
        if not isinstance(body, str) or not body.strip():
            result.errors.append(InputError(where, "row has no non-empty 'text' field; skipped"))
            continue
        raw_id = row.get("id")
        rid = f"{stem}-{lineno}" if raw_id in (None, "") else str(raw_id)
        rows.append((rid, where, body))
    return rows


def iter_input_files(root: Path, exclude: Path | None = None) -> list[Path]:
    """Files under root, sorted; hidden entries and anything under `exclude` (an output
    folder placed inside the input folder) are left out."""
    if root.is_file():
        return [root]
    skip = exclude.resolve() if exclude is not None else None
    if skip is not None and (skip == root.resolve() or not skip.is_relative_to(root.resolve())):
        skip = None  # only an output folder strictly inside the input folder is left out
    files = [
        p
        for p in root.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and not (skip is not None and p.resolve().is_relative_to(skip))
    ]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def load_articles(root: Path, *, exclude: Path | None = None) -> LoadResult:
    """Load every supported file under root (sorted by path, so ids are stable)."""
    result = LoadResult()
    base = root.parent if root.is_file() else root
    taken: set[str] = set()
    for path in iter_input_files(root, exclude):
        rel = path.relative_to(base).as_posix()
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            result.skipped.append(f"{rel}: unsupported file type {suffix or '(none)'!r}, skipped")
            continue
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise InputError(rel, f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,} limit")
            text, encoding = decode_bytes(path.read_bytes(), rel)
        except InputError as exc:
            result.errors.append(exc)
            continue
        except OSError as exc:
            result.errors.append(InputError(rel, f"cannot read: {exc.strerror or exc}"))
            continue
        if suffix == ".jsonl":
            entries = _load_jsonl(text, rel, path.stem, result)
        else:
            if suffix in (".html", ".htm"):
                text = _html_text(text)
                if not text.strip():
                    result.errors.append(InputError(rel, "HTML page has no main text; skipped"))
                    continue
            entries = [(path.stem, rel, text)]
        for raw_id, where, body in entries:
            aid = _unique(safe_id(raw_id), taken)
            result.articles.append(_make_article(aid, where, body, encoding))
    return result


def _unique(aid: str, taken: set[str]) -> str:
    candidate, n = aid, 2
    while candidate.lower() in taken:
        candidate = f"{aid}-{n}"
        n += 1
    taken.add(candidate.lower())
    return candidate
