"""Find the attribution in one clause: reporting verb, subject, recipient, content span.

Three shapes of news attribution are handled, with offsets into the article text:
  A  "“...,” Kremlin spokesman Dmitry Peskov said, according to The Guardian."
  B  "The Kremlin denied reports that the two men spoke, calling the report ..."
  C  "Trump urged Putin not to escalate, one of the sources told the daily."
plus "according to X" with no verb. Pure functions; resolving names is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from annotator.extract.rules.attribution import (
    LABEL_VERBS,
    NEITHER_NOR,
    RECIPIENT_VERBS,
    RELAY_VERBS,
    REPORTING_VERBS,
    VERB_MODIFIERS,
    word_set,
)
from annotator.extract.rules.sentences import inside_quotes, quote_pairs, quoted_inner
from annotator.extract.rules.stance_cues import has_denial

REPORTING_ONLY = frozenset({"report", "reports", "reported"})  # outlets report; people say
# Verbs that take a clause without "that" ("said he was ready"); other verbs with a bare
# object ("indicated a desire to ...") make the whole clause the statement.
CLAUSAL_VERBS = word_set("""
    say says said told tell tells added adds reported reports claimed claims claim stated states
    wrote writes noted notes insisted insists argued argues explained explains suggested
    suggests maintained maintains stressed stresses emphasized emphasised declared declares
    asserted asserts replied replies responded responds alleged alleges acknowledged admitted
    signaled signalled signals tweeted posted commented
    """)

_VERB = re.compile(r"(?<![\w’'-])\[?(?P<verb>[a-z]+)\]?(?:\([^)\s]*\))?(?![\w’'-])")
_BOUNDARY_CHARS = ',;:“”"—–()'
INTRO_WORDS: frozenset[str] = word_set("""
    in on at during after before since throughout thus however meanwhile earlier later last
    this amid unlike separately speaking asked while when following despite also still
    apart but and yet so then now today yesterday
    """)
# Strong clause boundaries; a clause is split there only if both sides have an anchor.
# A whitespace run is entered only at its first character ((?<!\s)) and taken whole
# (possessive ++): scanning a long run of spaces stays linear (no regex here backtracks
# super-linearly; tests/test_regex_linear.py checks every pattern).
CLAUSE_SPLIT = re.compile(r"(?<!\s)\s++[–—]\s+but\s+|,\s+but\s+|;\s+but\s+|;\s+|(?<!\s)\s++[–—]\s+")
# Participles that carry on the same attribution: "..., adding that ...".
INHERIT_SPLIT = re.compile(
    r",?(?<!\s)\s++(?:and\s+)?(?:adding|saying|noting|stressing|emphasi[sz]ing|insisting|arguing|"
    r"explaining|claiming|warning)\b(?:\s+that)?\s+"
)
# Tails that attach to the attribution verb, not to the content (B shape only).
B_TAIL = re.compile(
    r",\s+(?:according\s+to|citing|calling|disputing|[a-z]+ing)\b|(?<!\s)\s++in\s+remarks\b|"
    r",?(?<!\s)\s++in\s+an?\s+(?:interview|statement|email|post|address)\b"
)
ACCORDING_PHRASE = re.compile(
    r",?(?<!\s)\s*+\b[Aa]ccording\s+to\s+[^,.;:“”\"]{2,80}(?:,|(?=[.;:]|$))"
)
AND_THAT = re.compile(r",?(?<!\s)\s++and\s+that\b,?\s*")
# What may stand between a verb (plus its object) and "that": time, place, medium.
TO_THAT = re.compile(
    r"^[\s,]*+(?:(?:in|on|at|during|to|last|this|earlier|previously|recently|via|through|"
    r"over|from|[A-Z][a-z]+day)\b[^;]{0,110}?)?,?\s*\bthat\s+"
)
OBJECT_NP = re.compile(
    r"\s*+(?P<np>(?:(?:the|The)\s+)?(?:[A-Z][\w’'.&-]*+\s*+)+(?:newspaper|daily|news\s+agency|"
    r"agency|summit|reporters)?|(?:the\s+)?(?:daily|newspaper|paper|outlet|publication)|"
    r"reporters|journalists|lawmakers|the\s+press|the\s+media)"
)
RELAY_OBJECT = re.compile(r"\s*+(?P<np>[^.;“”\"]{2,90}?)(?<!\s)\s++as\s+(?:saying|telling)\b")
SOURCE_PHRASES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("according", re.compile(r"\b[Aa]ccording\s+to\s+(?P<np>[^,.;:“”\"]{2,80})")),
    ("citing", re.compile(r"\bciting\s+(?P<np>[^,.;:“”\"]{2,80})")),
    ("published", re.compile(r"\b(?:published|carried|aired)\s+by\s+(?P<np>[^,.;:“”\"]{2,80})")),
    ("interview", re.compile(r"\binterview\s+(?:\w+\s+){0,2}?with\s+(?P<np>[^,.;:“”\"]{2,60})")),
    ("social", re.compile(r"\b(?:on|via)\s+(?P<np>X|Twitter|Telegram|Facebook|Truth Social)\b")),
)
_NP_STOP = re.compile(
    r"(?<!\s)\s++(?:on|in|at|that|as|who|which|last|this|earlier|and\s+(?:said|added)|he|she|they|"
    r"it|was|were|had|has|said)\b.*$"
)


@dataclass
class ClauseParse:
    """One attribution found in a clause. Offsets are into the article text."""

    start: int
    end: int
    verb: str | None  # None for "according to X" alone
    verb_start: int = 0
    subject: str = ""  # subject phrase as written ("" when there is none)
    subject_start: int = 0
    coordinated: bool = False  # "..., and said": subject is the clause's first noun phrase
    relative_at: int | None = None  # "X, who said": offset of ", who"
    recipient: str | None = None  # "told Reuters": Reuters
    relayed: str | None = None  # "cited X as saying": X
    content: tuple[int, int] | None = None
    direct: bool = False  # the content is a direct quotation
    shape: str = "B"  # A, B, C or "according"
    via_that: bool = False  # the content followed "that"
    phrases: list[tuple[str, str]] = field(default_factory=list)  # (kind, noun phrase)
    hedged_verb: bool = False  # "neither confirmed nor denied"


def clauses(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """Clause spans of a sentence: (start, end, inherits) where inherits means the clause
    continues the previous clause's attribution ("..., adding that ...")."""
    pairs = quote_pairs(text, start, end)
    cuts: list[tuple[int, int, bool]] = []
    for pattern, inherits in ((CLAUSE_SPLIT, False), (INHERIT_SPLIT, True)):
        for m in pattern.finditer(text, start, end):
            if not inside_quotes(pairs, m.start()):
                cuts.append((m.start(), m.end(), inherits))
    cuts.sort()
    spans: list[tuple[int, int, bool]] = []
    cursor, inherit = start, False
    for cut_start, cut_end, inherits in cuts:
        if cut_start <= cursor:
            continue
        right_has = inherits or has_anchor(text, cut_end, end, pairs)
        if right_has and (inherits or has_anchor(text, cursor, cut_start, pairs)):
            spans.append((cursor, cut_start, inherit))
            cursor, inherit = cut_end, inherits
    spans.append((cursor, end, inherit))
    return spans


def _verbs(text: str, start: int, end: int, pairs: list[tuple[int, int]]) -> list[re.Match[str]]:
    return [
        m
        for m in _VERB.finditer(text, start, end)
        if m.group("verb") in REPORTING_VERBS and not inside_quotes(pairs, m.start())
    ]


def has_anchor(text: str, start: int, end: int, pairs: list[tuple[int, int]]) -> bool:
    chunk = text[start:end]
    return bool(
        _verbs(text, start, end, pairs) or "ccording to" in chunk or NEITHER_NOR.search(chunk)
    )


def _strip_modifiers(text: str, start: int, stop: int) -> int:
    """Move stop left over 'has also', 'previously' and the like."""
    while True:
        m = re.search(r"(?:^|\s)([\w’'-]+)\s*$", text[start:stop])
        if not m or m.group(1).lower() not in VERB_MODIFIERS:
            return stop
        stop = start + m.start(1)


def _subject_segment(text: str, start: int, stop: int) -> tuple[int, str]:
    cut = max(text.rfind(ch, start, stop) for ch in _BOUNDARY_CHARS)
    seg_start = start if cut < 0 else cut + 1
    while seg_start < stop and text[seg_start].isspace():
        seg_start += 1
    return seg_start, text[seg_start:stop].strip()


def _inverted_subject(text: str, pos: int, end: int) -> tuple[str, int]:
    """'“...,” said Kremlin spokesman Dmitry Peskov.' -> the phrase after the verb, its end."""
    m = re.match(r"\s+([^,.;:“”\"]{2,80})", text[pos:end])
    if not m:
        return "", pos
    phrase = _NP_STOP.sub("", m.group(1)).strip()
    return phrase, pos + m.start(1) + len(phrase)


def _appositive_subject(
    text: str, start: int, stop: int, accept: Callable[[str], bool] | None
) -> tuple[int, str] | None:
    """'A company spokeswoman, Ewa Nowak, denied': the subject is the head and its
    appositive name together (or the name alone); (start of the head, subject)."""
    # plain string scanning, not a regex: a pattern anchored at the end with free spans
    # before it backtracks quadratically on long runs of spaces
    segment = text[start:stop].rstrip()
    if not segment.endswith(","):
        return None
    body = segment[:-1]
    name_cut = _last_delimiter(body)
    if name_cut < 0 or body[name_cut] != ",":
        return None
    head_cut = _last_delimiter(body, name_cut)
    head_start = head_cut + 1
    while head_start < name_cut and body[head_start].isspace():
        head_start += 1
    head, name = body[head_start:name_cut].strip(), body[name_cut + 1 :].strip()
    if not head or not name:
        return None
    for subject in (f"{head} {name}", name):
        if len(subject.split()) <= 8 and (accept is None or accept(subject)):
            return start + head_start, subject
    return None


_APPOSITIVE_DELIMITERS = frozenset(',;:“”"—–()')


def _last_delimiter(text: str, end: int | None = None) -> int:
    """Index of the last clause delimiter in text[:end], or -1."""
    for i in range(len(text) if end is None else end, 0, -1):
        if text[i - 1] in _APPOSITIVE_DELIMITERS:
            return i - 1
    return -1


def _is_intro(pre: str) -> bool:
    words = re.findall(r"[\w’'-]+", pre)
    return len(words) <= 3 or words[0].lower() in INTRO_WORDS


def _direct_span(text: str, s: int, e: int, pairs: list[tuple[int, int]]) -> tuple[int, int] | None:
    """If text[s:e] is (almost) all one quotation, the span inside it."""
    body = text[s:e].strip(" ,:;.")
    lead = s + len(text[s:e]) - len(text[s:e].lstrip(" ,:"))
    for o, c in pairs:
        if o == lead and c < e:
            inner = quoted_inner(text, (o, c))
            if inner[1] - inner[0] >= 0.8 * max(1, len(body) - 2):
                return inner
    return None


def _collect_phrases(
    text: str, start: int, end: int, pairs: list[tuple[int, int]]
) -> list[tuple[str, str]]:
    found: list[tuple[int, str, str]] = []
    for kind, pattern in SOURCE_PHRASES:
        for m in pattern.finditer(text, start, end):
            if inside_quotes(pairs, m.start()):
                continue
            np = _NP_STOP.sub("", m.group("np")).strip()
            if np:
                found.append((m.start(), kind, np))
    return [(kind, np) for _, kind, np in sorted(found)]


def content_after(
    text: str, pos: int, end: int, pairs: list[tuple[int, int]]
) -> tuple[int, int, bool]:
    """Content of a B-shape clause: after the verb (and object), up to the first tail."""
    m = TO_THAT.match(text[pos:end])
    via_that = bool(m)
    if m:
        pos += m.end()
    while pos < end and text[pos] in " ,:":
        pos += 1
    stop = end
    for t in B_TAIL.finditer(text, pos, end):
        if not inside_quotes(pairs, t.start()):
            stop = t.start()
            break
    while stop > pos and text[stop - 1] in " .,;":
        stop -= 1
    return pos, stop, via_that


def parse_clause(
    text: str, start: int, end: int, accept: Callable[[str], bool] | None = None
) -> ClauseParse | None:
    """The first attribution in text[start:end] whose verb has a subject `accept` takes."""
    pairs = quote_pairs(text, start, end)
    phrases = _collect_phrases(text, start, end, pairs)
    anchors: list[tuple[int, int, str, bool]] = [
        (m.start(), m.end(), m.group("verb"), False) for m in _verbs(text, start, end, pairs)
    ]
    nn = NEITHER_NOR.search(text, start, end)
    if nn:
        anchors.append((nn.start(), nn.end(), "confirmed", True))
        anchors = [a for a in anchors if not (nn.start() <= a[0] < nn.end()) or a[3]]
    for v_start, v_end, verb, hedged in sorted(anchors):
        parse = _parse_anchor(text, start, end, pairs, v_start, v_end, verb, accept)
        if parse is not None:
            parse.hedged_verb = hedged
            parse.phrases = phrases
            return parse
    if any(kind == "according" for kind, _ in phrases):
        # "according to X" and no verb: the whole clause, minus the phrase, is the content
        return ClauseParse(
            start=start,
            end=end,
            verb=None,
            content=(start, end),
            shape="according",
            phrases=phrases,
        )
    return None


def _parse_anchor(
    text: str,
    start: int,
    end: int,
    pairs: list[tuple[int, int]],
    v_start: int,
    v_end: int,
    verb: str,
    accept: Callable[[str], bool] | None,
) -> ClauseParse | None:
    stop = _strip_modifiers(text, start, v_start)
    if stop > start and text[start:stop].rstrip().lower().endswith("neither"):
        stop = _strip_modifiers(text, start, text.lower().rfind("neither", start, stop))
    seg_start, seg = _subject_segment(text, start, stop)
    parse = ClauseParse(start=start, end=end, verb=verb, verb_start=v_start)
    low = seg.lower()
    if low == "and" or (low.endswith(" and") and len(low.split()) <= 2):
        parse.coordinated = True
        rel = text.rfind(", who ", start, v_start)
        parse.relative_at = rel if rel >= 0 else None
    elif low == "who":
        rel = text.rfind(",", start, seg_start)
        parse.relative_at = rel if rel >= 0 else seg_start
    after = v_end
    if not seg and not parse.coordinated and parse.relative_at is None:
        seg, after = _inverted_subject(text, v_end, end)
        if not seg or (accept is not None and not accept(seg)):
            appositive = _appositive_subject(text, start, stop, accept)
            if appositive is None:
                return None
            (seg_start, seg), after = appositive, v_end
    if accept is not None and not accept(seg):
        return None
    parse.subject, parse.subject_start = seg, seg_start
    if verb in RECIPIENT_VERBS:
        m = OBJECT_NP.match(text, after, end)
        if m:
            parse.recipient = m.group("np").strip()
            after = m.end()
    elif verb in RELAY_VERBS:
        m = RELAY_OBJECT.match(text, after, end)
        if not m:
            return None
        parse.relayed = m.group("np").strip()
        after = m.end()
    pre_s, pre_e = start, seg_start
    while pre_e > pre_s and text[pre_e - 1] in ' ,“”"—–':
        pre_e -= 1
    pre = text[pre_s:pre_e]
    direct_pre = _direct_span(text, pre_s, seg_start, pairs) if pre.strip() else None
    c_s, c_e, via_that = content_after(text, after, end, pairs)
    post_words = len(re.findall(r"\w+", text[c_s:c_e]))
    if verb in LABEL_VERBS:
        if parse.coordinated or not has_denial(text[c_s:c_e]):
            return None
        parse.content, parse.shape = (c_s, c_e), "B"
        return parse
    if direct_pre and not parse.coordinated:
        parse.content, parse.direct, parse.shape = direct_pre, True, "A"
    elif (
        len(re.findall(r"\w+", pre)) >= 3
        and not parse.coordinated
        and parse.relative_at is None
        and (post_words < 3 or not _is_intro(pre))
    ):
        parse.content, parse.shape = (pre_s, pre_e), "C"
    elif post_words:
        direct_post = _direct_span(text, c_s, end, pairs)
        parse.content, parse.direct, parse.via_that = (
            (direct_post, True, False) if direct_post else ((c_s, c_e), False, via_that)
        )
    else:
        return None
    return parse


def split_and_that(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """'reported that A, and that B' -> the spans of A and B."""
    pairs = quote_pairs(text, s, e)
    out: list[tuple[int, int]] = []
    cursor = s
    for m in AND_THAT.finditer(text, s, e):
        if not inside_quotes(pairs, m.start()):
            out.append((cursor, m.start()))
            cursor = m.end()
    out.append((cursor, e))
    return [(a, b) for a, b in out if b > a]
