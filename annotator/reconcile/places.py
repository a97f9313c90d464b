"""Countries as parties: a country's name, its other names, its capital and its
demonym name one party in the news ("Kyiv was informed", "the Ukrainian side was
informed", "Ukraine was told"; "Moscow denied" / "Russia denied").

The gazetteer is the `countryinfo` package's data (every country and territory, read
once from the installed package, no network). Only one-word forms are used (a name is
compared word by word); a form that several entries share belongs to the most
populous of them ("French": France, not French Polynesia); a capital is named without the
abbreviations that end it ("Washington D.C." is "Washington"). Spellings the data lacks
("Kiev" for "Kyiv") are matched by the scorer's spelling test against the country's
name, capital and demonym (`country_core`), never its codes.
"""

from __future__ import annotations

import re
from functools import lru_cache

from annotator.reconcile.names import fold

__all__ = ["country_core", "country_of", "is_place", "join_places"]


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, str], dict[str, tuple[str, ...]], frozenset[str]]:
    """(form -> country, country -> its name, capital and demonym, all folded; the forms
    of several words as written, for `join_places`)."""
    from countryinfo import all_countries

    best: dict[str, tuple[int, str]] = {}
    core: dict[str, tuple[str, ...]] = {}
    phrases: set[str] = set()
    for entry in all_countries():
        info = entry.info()
        country = str(info.get("name") or "")
        if not country:
            continue
        population = int(info.get("population") or 0)
        forms = [
            country,
            _without_abbreviations(info.get("capital")),
            info.get("demonym"),
            *info.get("altSpellings", []),
        ]
        for form in forms:
            if not isinstance(form, str) or not _is_name(form):
                continue  # a hyphen, another script, "The Valley": not a name here
            key = fold(form)  # several words: one, as `join_places` writes them
            if len(key) < 2:
                continue
            if " " in form:
                phrases.add(form)
            held = best.get(key)
            if held is None or (population, country) > held:
                best[key] = (population, country)
        core[country] = tuple(fold(f) for f in forms[:3] if isinstance(f, str) and _is_name(f))
    return {key: country for key, (_, country) in best.items()}, core, frozenset(phrases)


def _is_name(form: str) -> bool:
    """Capitalised ASCII words: "Ukraine", "New Zealand" (not "The Gambia": an article)."""
    words = form.split()
    return (
        bool(words)
        and form.isascii()
        and all(w.isalpha() for w in words)
        and (len(words) == 1 or (words[0] != "The" and all(w[0].isupper() for w in words)))
    )


@lru_cache(maxsize=1)
def _phrases() -> tuple[re.Pattern[str], frozenset[str]] | None:
    """A pattern of the gazetteer's names of several words (longest first), and the words
    that open them ("United", "New")."""
    found = _gazetteer()[2]
    if not found:
        return None
    ordered = sorted(found, key=lambda f: (-len(f), f))
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in ordered) + r")\b")
    return pattern, frozenset(f.split()[0] for f in found)


def join_places(text: str) -> str:
    """The text with each place name of several words written as one word: "the United
    States said" -> "the UnitedStates said", so it is one name, the one "Washington" and
    "American" name."""
    phrases = _phrases()
    if phrases is None or phrases[1].isdisjoint(text.split()):
        return text  # most statements: no word opens such a name
    return phrases[0].sub(lambda m: m.group().replace(" ", ""), text)


def _without_abbreviations(form: object) -> object:
    """A name without the abbreviations that end it: "Washington D.C." is "Washington"."""
    if not isinstance(form, str):
        return form
    words = form.split()
    while len(words) > 1 and "." in words[-1]:
        words.pop()
    return " ".join(words)


@lru_cache(maxsize=1 << 16)  # asked for every name word of every statement
def country_of(word: str) -> str | None:
    """The country a name word names, if it is a country's name, other name, capital
    or demonym: "kyiv", "ukrainian", "ukraine" -> "Ukraine"."""
    return _gazetteer()[0].get(fold(word))


def country_core(country: str) -> tuple[str, ...]:
    """The folded one-word forms of a country's name, capital and demonym."""
    return _gazetteer()[1].get(country, ())


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    return frozenset(form for forms in _gazetteer()[1].values() for form in forms)


def is_place(word: str) -> bool:
    """A country's name, capital or demonym (not its codes): a name even where it opens a
    sentence ("Tokyo expressed concern")."""
    return fold(word) in _places()
