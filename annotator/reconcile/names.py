"""Name forms for entity matching: fold a word, strip titles from a person's name,
normalise an organisation's name, tell persons, organisations, anonymous and generic
sources apart. Pure string functions, cached: the same names recur in every article.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

from annotator.core.lexicon import DEMONYMS as _DEMONYMS

Form = Literal["person", "org", "anonymous", "generic"]


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


TITLE_WORDS = _wordset(
    "president president-elect vice prime minister spokesman spokeswoman spokesperson "
    "secretary senator sen rep representative governor gov mayor general gen journalist "
    "reporter director chief adviser advisor ambassador chancellor king queen prince pope "
    "dr mr mrs ms mx prof professor judge justice leader ceo chairman chairwoman chair head "
    "former deputy commander colonel col officer official founder billionaire author editor "
    "correspondent analyst lawyer attorney envoy aide press premier sheikh emir "
    "lt sgt capt admiral marshal"
)
_PARTICLES = _wordset("de da di du del della der den van von bin ibn al el la le ter dos das")
_SUFFIXES = _wordset("jr sr ii iii iv")
ORG_WORDS = _wordset(
    "kremlin ministry government department office administration agency council committee "
    "parliament senate congress embassy army military forces police party campaign team "
    "company corporation corp inc ltd llc news newspaper times post journal tv television "
    "radio media press service services bank union court commission university institute "
    "foundation group house cabinet presidency side network channel daily magazine "
    "organization organisation association alliance nato un eu"
)
_ANONYMOUS = re.compile(
    r"\b(anonymous|unnamed|unidentified|familiar|sources?|insiders?|people|individuals|persons)\b",
    re.IGNORECASE,
)
_GENERIC = re.compile(
    r"^(?:the\s+)?(?:daily|newspaper|paper|outlet|publication|broadcaster|network|"
    r"news\s+agency|agency|magazine|website|site|report)$",
    re.IGNORECASE,
)
OUTLET_KINDS = frozenset({"news_outlet", "news_agency"})
_TYPE_WORDS = (("news", "agency"), ("newspaper",), ("news", "service"), ("wire",))
KIND_ORDER = (
    "person", "organization", "news_outlet", "news_agency", "government", "official",
    "anonymous", "document", "social_media", "other",
)  # fmt: skip
_POSSESSIVE = re.compile(r"['’]s\b|(?<=s)['’](?=\s|$)")


def fold(word: str) -> str:
    """Case-, accent- and transliteration-insensitive form of one word (Zelenskyy -> zelenski)."""
    w = unicodedata.normalize("NFKD", word.lower())
    w = "".join(ch for ch in w if ch.isalnum())
    w = w.replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", w)


_TRAILING_TYPE_WORDS = tuple(tuple(fold(w) for w in tail) for tail in _TYPE_WORDS)


def name_words(name: str) -> list[str]:
    name = _POSSESSIVE.sub("", unicodedata.normalize("NFC", name))
    name = re.sub(r"\([^)]*\)", " ", name)
    out = []
    for raw in name.replace("“", " ").replace("”", " ").replace('"', " ").split():
        tok = raw.strip(".,;:!?'’`")
        if tok:
            out.append(tok)
    return out


def person_display(name: str) -> list[str]:
    """The personal name inside a speaker string, without titles or roles.

    "Kremlin spokesman Dmitry Peskov" -> ["Dmitry", "Peskov"]; "Ukrainian President
    Volodymyr Zelenskyy" -> ["Volodymyr", "Zelenskyy"].
    """
    words = name_words(name)
    cut = 0
    for i, w in enumerate(words):
        low = w.lower().rstrip(".")
        if low in TITLE_WORDS or (w[:1].islower() and low not in _PARTICLES):
            cut = i + 1
    kept = [w for w in words[cut:] if w.lower().rstrip(".") not in _SUFFIXES]
    return kept or words


def org_tokens(name: str) -> tuple[str, ...]:
    """Normalised words of an organisation name: 'The Washington Post' -> ('washington', 'post')."""
    toks = [fold(w) for w in name_words(name) if fold(w)]
    toks = [_DEMONYMS.get(t, t) for t in toks]
    if toks and toks[0] == "the":
        toks = toks[1:]
    for tail in _TRAILING_TYPE_WORDS:  # "Reuters news agency" is Reuters
        if len(toks) > len(tail) and tuple(toks[-len(tail) :]) == tail:
            toks = toks[: -len(tail)]
            break
    return tuple(toks)


def is_org_name(name: str) -> bool:
    """An organisation, judged on the name without titles: 'the Kremlin' yes, 'Kremlin
    spokesman Dmitry Peskov' no."""
    if name.strip().lower().startswith("the "):
        return True
    return any(w.lower() in ORG_WORDS for w in person_display(name))


def looks_like_person(name: str) -> bool:
    words = person_display(name)
    if not 1 <= len(words) <= 4 or is_org_name(name):
        return False
    return all(w[:1].isupper() or w.lower() in _PARTICLES for w in words) and not any(
        ch.isdigit() for ch in name
    )


def compact_matches(compact: str, words: Sequence[str]) -> bool:
    """'wapo' ~ ('washington', 'post'); 'wsj' ~ ('wall', 'street', 'journal')."""
    if len(words) < 2:
        return False

    def split(rest: str, i: int) -> bool:
        if i == len(words):
            return not rest
        w = words[i]
        return any(
            w.startswith(rest[:n]) and split(rest[n:], i + 1)
            for n in range(1, min(len(w), len(rest) - (len(words) - i - 1)) + 1)
        )

    return split(compact, 0)


def is_compact(word: str) -> bool:
    """An acronym or clipped form such as 'WSJ' or 'WaPo'."""
    return 2 <= len(word) <= 8 and sum(ch.isupper() for ch in word) >= 2


@lru_cache(maxsize=1 << 14)
def speaker_form(name: str) -> tuple[Form, str]:
    if _ANONYMOUS.search(name) and not looks_like_person(name):
        return "anonymous", "anonymous"
    if is_org_name(name):
        return "org", "organization"
    return "person", "person"


@lru_cache(maxsize=1 << 14)
def source_form(name: str, kind: str) -> Form:
    if kind == "anonymous" or (_ANONYMOUS.search(name) and not looks_like_person(name)):
        return "anonymous"
    if _GENERIC.match(name.strip()):
        return "generic"
    if kind in ("official", "other", "social_media") and looks_like_person(name):
        return "person"
    return "org"


@lru_cache(maxsize=1 << 14)
def name_form(raw: str, form: Form) -> tuple[tuple[str, ...], str]:
    """(matching tokens, display name) of a name written `raw`."""
    if form == "person":
        words = person_display(raw)
        return tuple(fold(w) for w in words), " ".join(words)
    display = " ".join(name_words(raw)) or raw
    if display[:4] == "the ":
        display = "The " + display[4:]
    return org_tokens(raw), display


def slugify(text: str, max_words: int = 8) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:max_words]
    return "-".join(words) or "x"
