"""Lexicons and noun-phrase patterns of news attribution: who says, through whom.

Pure data and small pure functions, shared by the rules extractor. General lists, not
tuned to any one article: reporting verbs, titles, outlet names, anonymous-source heads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from annotator.core.lexicon import DEMONYMS, NAME_PARTICLES, OUTLET_ALIASES, OUTLETS
from annotator.core.models import SourceKind
from annotator.extract.rules.stance_cues import DENIAL_VERBS


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string (easier to read and edit)."""
    return frozenset(words.split())


# ---------------------------------------------------------------- reporting verbs

REPORTING_VERBS: frozenset[str] = DENIAL_VERBS | word_set("""
    say says said told tell tells added adds add reported reports report
    claimed claims claim stated states wrote writes noted notes explained explains confirmed
    confirms announced announces insisted insists argued argues acknowledged acknowledges
    admitted admits alleged alleges
    suggested suggests maintained maintains stressed stresses emphasized emphasised emphasizes
    declared declares asserted asserts replied replies responded responds commented comments
    tweeted posted revealed reveals described describes called calls signaled signalled
    signals indicated indicates cited cites quoted quotes ruled rules
    """)
# Verbs by which the article itself distances the content from fact.
HEDGING_VERBS: frozenset[str] = word_set("claimed claims claim alleged alleges")
# Verbs whose object is a recipient ("told Reuters"), not the content.
RECIPIENT_VERBS: frozenset[str] = word_set("told tell tells")
# "X cited/quoted Y as saying": Y is the real speaker or the cited source.
RELAY_VERBS: frozenset[str] = word_set("cited cites quoted quotes")
# "X called Y false": the content is an object plus a predicate.
LABEL_VERBS: frozenset[str] = word_set("called calls described describes")

# Words allowed between a subject and its verb ("Peskov has also denied").
VERB_MODIFIERS: frozenset[str] = word_set("""
    has have had also previously first publicly repeatedly altogether already reportedly
    officially later earlier recently further directly then once again again initially
    separately since just quickly flatly categorically strongly firmly
    """)
# A verb phrase that is itself a hedge: "has neither confirmed nor denied".
NEITHER_NOR = re.compile(
    r"\b(?:has|have|had)?\s*neither\s+(?:\w+ly\s+)?(?:confirmed|denied)\s+nor\s+"
    r"(?:\w+ly\s+)?(?:confirmed|denied)\b",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- titles and bodies

ROLE_HEADS: frozenset[str] = word_set("""
    spokesman spokeswoman spokesperson president president-elect minister secretary director
    adviser advisor aide ambassador envoy chief head leader official journalist reporter
    correspondent editor analyst expert professor senator congressman congresswoman
    representative governor mayor general commander chairman chairwoman chair ceo founder
    billionaire lawyer attorney judge diplomat premier chancellor king queen prince
    spokespeople author columnist historian researcher economist strategist negotiator
    executive manager coach candidate
    """)
ROLE_MODIFIERS: frozenset[str] = word_set("""
    communications press foreign deputy senior chief former top tech vice prime acting
    national security defense defence interior finance state first assistant campaign
    executive general special presidential white house
    """)
# Heads of bodies that speak as one ("the Kremlin denied", "the foreign ministry said").
BODY_HEADS: frozenset[str] = word_set("""
    kremlin ministry government administration department pentagon office embassy
    presidency cabinet parliament council commission campaign team army military police
    spokesman's agency white-house
    """)
BODY_WORDS: frozenset[str] = word_set("""
    foreign state defense defence interior justice finance press presidential white house
    national security
    """)
# Nationality words are never part of a person's name ("Russian President Vladimir Putin").
NATIONALITY_WORDS: frozenset[str] = frozenset(DEMONYMS) | word_set(
    "u.s. us u.k. uk european western"
)

# ---------------------------------------------------------------- sources

# Outlet names, kinds and aliases come from the shared table in `core.lexicon`.
_OUTLET_NAMES = sorted(
    {name for name in OUTLETS} | {alias for alias in OUTLET_ALIASES}, key=len, reverse=True
)
# Case-sensitive for short all-caps names (AP, RT, X) so ordinary words never match.
OUTLET_MENTION = re.compile(
    r"(?<![\w-])(?:(?i:the)\s+)?(?P<name>"
    + "|".join(
        re.escape(n) if (n.isupper() and len(n) <= 4) or n in OUTLETS else f"(?i:{re.escape(n)})"
        for n in _OUTLET_NAMES
        if n.lower() not in ("x", "ap", "rt") or n in OUTLETS
    )
    + r")(?![\w-])"
)
# Any capitalised name ending like a newspaper or a broadcaster.
GENERIC_OUTLET = re.compile(
    r"(?:(?:the|The)\s+)?(?P<name>(?:[A-Z][\w.&-]{0,40}+\s++){0,3}"
    r"(?:News|Times|Post|Journal|Herald|Tribune|Gazette|Telegraph|Chronicle|Observer|Daily|"
    r"Insider|Radio|TV|Television|Press|Agency|Wire))\b"
)
# "Russian state TV", "state media": lower-case broadcaster phrases.
BROADCASTER = re.compile(
    r"(?P<name>(?:[A-Z][\w-]{0,40}+\s++)?(?:state(?:-run|-owned|-sponsored)?\s+)?"
    r"(?:TV|television|broadcaster|media|radio))\b"
)
# An outlet introduced by what it is: "the German tabloid Bild", "broadcaster TVP3 Lodz".
DESCRIBED_OUTLET = re.compile(
    r"\b(?P<what>newspaper|daily|tabloid|broadcaster|channel|magazine|website|agency|"
    r"weekly|network|station)\s+(?P<name>[A-Z][\w.&’'-]*(?:\s+[A-Z0-9][\w.&’'-]*){0,3})"
)
# References back to an outlet already named: "the daily", "the Post", "the report".
OUTLET_BACKREF = re.compile(
    r"^(?:the\s+)?(?:daily|newspaper|paper|outlet|publication|report|reports|"
    r"broadsheet|tabloid|[A-Z][\w-]*\s+newspaper)$",
    re.IGNORECASE,
)
AGENCY_SUFFIX = re.compile(r"\bnews agency\b", re.IGNORECASE)

ANONYMOUS_HEADS: frozenset[str] = word_set("""
    source sources people person persons individuals insiders officials diplomats aides
    advisers advisors officers analysts observers
    """)
ANONYMOUS_MARKERS: frozenset[str] = word_set("""
    anonymous unnamed familiar close briefed knowledge condition anonymity several some two
    three four many sources source people individuals insiders senior officials
    """)
ANONYMOUS_QUANTIFIER = re.compile(
    r"^(?:(?:one|some|several|many|most|a few|two|three|four|five|a number|an?)\s+)?"
    r"(?:of\s+(?:the|them|its|his|her|their)\s+)?(?:other\s+)?",
    re.IGNORECASE,
)

PRONOUNS: dict[str, str] = {"he": "he", "she": "she", "they": "they", "who": "who"}
DOCUMENT_MENTION = re.compile(
    r"\bin\s+(?:his|her|their|its|a|an|the)\s+(?:\w+\s+){0,3}?"
    r"(?:book|memoir|report|statement|letter|filing|op-ed|column|article|documentary)"
    r"\s*,?\s*[“\"](?P<title>[^”\"]{2,60})[”\"]"
)

# ---------------------------------------------------------------- noun phrases

NPKind = Literal["person", "body", "outlet", "anonymous", "pronoun", "backref", "report", "none"]


@dataclass(frozen=True)
class NounPhrase:
    kind: NPKind
    name: str = ""
    role: str | None = None
    affiliation: str | None = None
    source_kind: SourceKind = "other"
    cited_via: str | None = None  # an outlet named inside an anonymous phrase


NONE = NounPhrase("none")

_TOKEN = re.compile(r"[\w.’'&-]+")
_CAP = re.compile(r"^[A-Z][\w’'.-]*$")
NAME_STOPWORDS: frozenset[str] = word_set("""
    the a an and or but of in on at to for with from by as after before during however
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december today yesterday it this that these
    those there here his her their its our we i you he she they
    """)


def strip_possessive(word: str) -> str:
    return re.sub(r"(?:’s|'s|’|')$", "", word)


@dataclass(frozen=True)
class OutletMatch:
    name: str
    kind: SourceKind
    start: int
    end: int


def find_outlet(phrase: str) -> OutletMatch | None:
    """The outlet named in phrase: a known name first, then one introduced by what it is
    ("the tabloid Bild"), then a newspaper-like name."""
    m = OUTLET_MENTION.search(phrase)
    if m:
        raw = m.group("name")
        name = raw if raw in OUTLETS else OUTLET_ALIASES.get(raw.lower(), raw)
        kind = OUTLETS.get(name, "news_outlet")
        if AGENCY_SUFFIX.search(phrase):
            kind = "news_agency"
        return OutletMatch(name, kind, m.start(), m.end())
    d = DESCRIBED_OUTLET.search(phrase)
    if d:
        described: SourceKind = "news_agency" if d.group("what") == "agency" else "news_outlet"
        return OutletMatch(d.group("name"), described, d.start("name"), d.end("name"))
    b = BROADCASTER.search(phrase)
    if b and len(b.group("name").split()) >= 2:
        return OutletMatch(b.group("name").strip(), "news_outlet", b.start(), b.end())
    g = GENERIC_OUTLET.search(phrase)
    if g:
        generic: SourceKind = "news_agency" if AGENCY_SUFFIX.search(phrase) else "news_outlet"
        return OutletMatch(g.group("name").strip(), generic, g.start(), g.end())
    return None


def canonical_outlet(phrase: str) -> tuple[str, SourceKind] | None:
    """The canonical name and kind of an outlet named in phrase, or None."""
    found = find_outlet(phrase)
    return (found.name, found.kind) if found else None


def title_parts(words: list[str]) -> tuple[str | None, str | None, list[str], list[str]]:
    """Split '<affiliation> <role> <Name>' words: (role, affiliation, name, words left over)."""
    name: list[str] = []
    i = len(words) - 1
    while i >= 0 and (
        _is_name_word(words[i])
        or (name and i > 0 and words[i] in NAME_PARTICLES and _is_name_word(words[i - 1]))
    ):
        name.insert(0, words[i])
        i -= 1
    role: list[str] = []
    while i >= 0 and (
        _is_role_word(words[i], has_head=bool(role)) or (role and _is_compound_role(words[i]))
    ):
        role.insert(0, words[i])
        i -= 1
    if role and role[-1].lower() not in ROLE_HEADS:
        i += len(role)  # only modifiers ("foreign"): they belong to the affiliation
        role = []
    affil: list[str] = []
    while i >= 0 and (_CAP.match(words[i]) or words[i].lower() in BODY_WORDS | BODY_HEADS):
        if words[i].lower() in NAME_STOPWORDS:
            break
        affil.insert(0, words[i])
        i -= 1
    if affil:
        affil[-1] = strip_possessive(affil[-1])
    return (" ".join(role) or None, " ".join(affil) or None, name, words[: i + 1])


def split_title(words: list[str]) -> tuple[str | None, str | None, list[str]]:
    role, affil, name, _ = title_parts(words)
    return role, affil, name


def _is_name_word(word: str) -> bool:
    low = word.lower()
    return (
        bool(_CAP.match(word))
        and low not in ROLE_HEADS
        and low not in ROLE_MODIFIERS
        and low not in NATIONALITY_WORDS
        and low not in NAME_STOPWORDS
        and low not in BODY_HEADS
        and low not in ANONYMOUS_HEADS
        and not word.endswith(("’s", "'s"))
        and "." not in word.rstrip(".")
    )


def _is_compound_role(word: str) -> bool:
    """A lower-case noun compounded with a title: "fire chief", "sporting director"."""
    low = word.lower()
    return (
        word.islower()
        and word.isalpha()
        and low not in NAME_STOPWORDS
        and low not in BODY_WORDS | BODY_HEADS
        and low not in NATIONALITY_WORDS
        and low not in REPORTING_VERBS | VERB_MODIFIERS
    )


def _is_role_word(word: str, *, has_head: bool) -> bool:
    low = word.lower()
    return low in ROLE_HEADS or (has_head and low in ROLE_MODIFIERS)


_FINITE = word_set(
    "has have had is was were are am be been will would did does do can could made makes spoke "
    "say says if don't doesn't didn't don’t doesn’t didn’t"
)
_OUTLET_TRAIL = re.compile(
    r"^\s*+(?:newspaper|daily|news\s+agency|agency|news\s+service|website|channel)?\s*+$", re.I
)
_DETERMINERS = frozenset({"the", "a", "an"})


def classify_np(phrase: str) -> NounPhrase:
    """What kind of thing a subject or object phrase names (before back-reference)."""
    text = re.sub(r"\[([^\]]{0,300}+)\]\([^)]{0,2000}+\)", r"\1", phrase)
    text = re.sub(r"\s+", " ", text).strip(" ,;:“”\"'‘’")
    text = re.sub(r"^(?:and|but|while|as|so)\s+", "", text, flags=re.IGNORECASE)
    low = text.lower()
    if not text:
        return NONE
    if low in PRONOUNS:
        return NounPhrase("pronoun", name=low)
    if OUTLET_BACKREF.match(text):
        return NounPhrase("backref", name=text)
    words = _TOKEN.findall(text)
    lowered = {strip_possessive(w.lower()) for w in words}
    if not words or len(words) > 12 or lowered & _FINITE:
        return NONE
    outlet = find_outlet(text)
    if lowered & ANONYMOUS_HEADS and not any(_is_name_word(w) for w in words[-2:]):
        via = outlet.name if outlet else None
        return NounPhrase(
            "anonymous", name=_anonymous_name(text, via), source_kind="anonymous", cited_via=via
        )
    if (
        outlet
        and _OUTLET_TRAIL.match(text[outlet.end :])
        and len(text[: outlet.start].split()) <= 3
        and not _ends_with_person(words)
    ):
        return NounPhrase("outlet", name=outlet.name, source_kind=outlet.kind)
    role, affil, name_words, left = title_parts(words)
    if {w.lower() for w in left} - _DETERMINERS:
        return NONE
    if name_words:
        return NounPhrase("person", name=" ".join(name_words), role=role, affiliation=affil)
    if lowered & BODY_HEADS or (affil and not role):
        body = re.sub(r"^(?:the|a|an)\s+", "", text, flags=re.IGNORECASE)
        return NounPhrase("body", name=body, source_kind="government")
    if role:
        return NounPhrase("person", name="", role=role, affiliation=affil)
    return NONE


def _ends_with_person(words: list[str]) -> bool:
    return len(words) >= 2 and _is_name_word(words[-1]) and words[-2].lower() in ROLE_HEADS


def _anonymous_name(text: str, outlet: str | None) -> str:
    name = text
    if outlet:
        name = re.sub(r"(?i)(?:of\s+)?(?:the\s+)?[\w\s.-]{0,80}?(?:’s|'s)\s+", "", name, count=1)
    name = ANONYMOUS_QUANTIFIER.sub("", name).strip()
    return name or "sources"


def document_source(clause: str) -> str | None:
    """Title of a document the speaker is quoted from ("in his book “War,”"), if any."""
    m = DOCUMENT_MENTION.search(clause)
    return m.group("title").strip(" ,.") if m else None
