"""Load articles from a folder: exact text (offsets refer to it), metadata read from the file.

Nothing here calls a model. Bad files become `InputError`s that name the file, and the
rest still load.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from annotator.core.errors import InputError
from annotator.core.lexicon import OUTLET_DOMAINS
from annotator.core.text import date_prefix, encodable

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
    encoding_confidence: float | None = None  # set when the encoding was guessed


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
    text, encoding, _ = decode_with_confidence(data, path)
    return text, encoding


# Below this confidence a guessed encoding is flagged in the record for a person to check.
LOW_CONFIDENCE = 0.6
_WESTERN = ("cp1252", "latin_1", "iso8859_15")


def decode_with_confidence(data: bytes, path: str) -> tuple[str, str, float | None]:
    """(text, encoding, confidence). UTF-8 first (confidence None: not a guess); otherwise
    the detector's best guess, preferring Western encodings (cp1252, latin-1) when they
    read the bytes as cleanly as the best guess. Confidence is 1 - the detector's chaos
    score, halved when another encoding reads the bytes as cleanly into different text."""
    if not data.strip():
        raise InputError(path, "empty file")
    head = data[:8192]
    if b"\x00" in head and not (head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise InputError(path, "binary file (NUL bytes), not an article")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", None
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = [m for m in from_bytes(data) if m.encoding]
    if not matches:
        raise InputError(path, "not UTF-8 and no text encoding detected")
    best = min(matches, key=lambda m: m.chaos)
    western = [m for m in matches if m.encoding in _WESTERN and m.chaos <= best.chaos + 0.02]
    chosen = western[0] if western else best
    text = str(chosen)
    if _control_ratio(text) > 0.05:
        raise InputError(path, "binary file (decodes to control characters), not an article")
    rivals = [m for m in matches if m.chaos <= chosen.chaos + 0.02 and str(m) != text]
    confidence = max(0.0, 1.0 - chosen.chaos) * (0.5 if rivals else 1.0)
    return text, chosen.encoding, round(confidence, 2)


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


def _make_article(
    aid: str, path: str, text: str, encoding: str, confidence: float | None = None
) -> Article:
    meta = read_metadata(text)
    flags = article_flags(text)
    if confidence is not None and confidence < LOW_CONFIDENCE:
        flags += ("encoding_uncertain",)
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
        flags=flags,
        encoding_confidence=confidence,
    )


def _html_text(raw: str) -> str:
    from annotator.load.html_text import html_to_text

    return html_to_text(raw)


def _load_jsonl(text: str, rel: str, stem: str, result: LoadResult) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    # split on "\n" only: a JSON string may hold U+2028 and other characters that
    # str.splitlines() would treat as line ends
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{rel}:{lineno}"
        row, problem = parse_json_row(line)
        if problem is not None:
            result.errors.append(InputError(where, f"{problem}"))
            continue
        body = row.get("text") if isinstance(row, dict) else None
        if not isinstance(body, str) or not body.strip():
            result.errors.append(InputError(where, "row has no non-empty 'text' field"))
            continue
        raw_id = row.get("id") if isinstance(row, dict) else None
        rid = f"{stem}-{lineno}" if raw_id in (None, "") else str(raw_id)
        if not encodable(body) or not encodable(rid):
            result.errors.append(InputError(where, "text is not valid Unicode (a lone surrogate)"))
            continue
        rows.append((rid, where, body))
    return rows


def parse_json_row(line: str) -> tuple[object, str | None]:
    """One JSONL row, or a one-line reason why it is not one. Hostile rows (nesting
    100,000 deep, a 5,000-digit number) are reasons here, never crashes."""
    try:
        return json.loads(line), None
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON ({exc.msg} at column {exc.colno})"
    except RecursionError:
        return None, "JSON nested too deeply"
    except ValueError as exc:  # e.g. an integer over Python's 4,300-digit limit
        return None, f"invalid JSON value ({' '.join(str(exc).split())[:80]})"


def load_articles(
    root: Path, *, exclude: Path | Sequence[Path] | None = None, max_bytes: int | None = None
) -> LoadResult:
    """Load every supported file under root (sorted by path). Ids depend only on each
    file's own name, so adding a file never changes another file's id."""
    from annotator.load.walk import is_own_output, walk_inputs

    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    result = LoadResult()
    base = root.parent if root.is_file() else root
    skip = [exclude] if isinstance(exclude, Path) else list(exclude or [])
    found = walk_inputs(root, [p for p in skip if _strictly_inside(p, root)])
    result.errors.extend(found.problems)
    result.skipped.extend(found.skipped)
    entries: list[tuple[str, str, str, str, float | None]] = []
    for path in found.files:
        rel = path.relative_to(base).as_posix()
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            result.skipped.append(f"{rel}: unsupported file type {suffix or '(none)'!r}")
            continue
        if is_own_output(path):
            result.skipped.append(f"{rel}: written by annotate, not read as an article")
            continue
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise InputError(
                    rel, f"file is {size:,} bytes, over the {max_bytes:,} limit (--max-bytes)"
                )
            text, encoding, confidence = decode_with_confidence(path.read_bytes(), rel)
        except InputError as exc:
            result.errors.append(exc)
            continue
        except OSError as exc:
            result.errors.append(InputError(rel, f"cannot read: {exc.strerror or exc}"))
            continue
        if suffix == ".jsonl":
            rows = _load_jsonl(text, rel, path.stem, result)
        else:
            if suffix in (".html", ".htm"):
                text = _html_text(text)
                if not text.strip():
                    result.errors.append(InputError(rel, "HTML page has no main text"))
                    continue
            rows = [(path.stem, rel, text)]
        entries.extend((raw, where, body, encoding, confidence) for raw, where, body in rows)
    ids = stable_ids([(raw, where) for raw, where, *_ in entries])
    for aid, (_raw, where, body, encoding, confidence) in zip(ids, entries, strict=True):
        result.articles.append(_make_article(aid, where, body, encoding, confidence))
    return result


def _strictly_inside(path: Path, root: Path) -> bool:
    if root.is_file():
        return False
    inner, outer = path.resolve(), root.resolve()
    return inner != outer and inner.is_relative_to(outer)


def stable_ids(names: Sequence[tuple[str, str]]) -> list[str]:
    """File-safe ids for (raw name, where) pairs, each decided by its own name alone.

    A name that is already safe keeps itself as id. A name that sanitising changes
    (`a b` -> `a_b`) gets a short hash of the raw name (`a_b-3f2a9c`), so it can never take
    or shift the id of a file that is named `a_b`. Safe names that differ in case alone
    (`A_B` and `a_b`: one file on a case-insensitive disk) and repeated JSONL ids keep the
    all-lower-case one (else the first) and give the others a hash of where they were found.
    """
    ids: list[str] = []
    for raw, _where in names:
        safe = safe_id(raw)
        ids.append(safe if safe == raw else f"{safe[: _ID_MAX - 7]}-{_short_hash(raw)}")
    groups: dict[str, list[int]] = {}
    for i, aid in enumerate(ids):
        groups.setdefault(aid.lower(), []).append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        # the all-lower-case name keeps its id; the others are told apart by a hash
        keep = next((i for i in members if ids[i] == ids[i].lower()), None)
        for n, i in enumerate(members):
            if i != keep and (keep is not None or n > 0):
                ids[i] = f"{ids[i][: _ID_MAX - 7]}-{_short_hash(names[i][1])}"
    return ids


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:6]
