"""Countries as parties: a country's name, its other names, its capital and its
demonym name one party in the news ("Kyiv was informed", "the Ukrainian side was
informed", "Ukraine was told"; "Moscow denied" / "Russia denied").

The gazetteer is the `countryinfo` package's data (every country and territory, read
once from the installed package, no network). Only one-word forms are used (a name is
compared word by word); a form that several entries share belongs to the most
populous of them ("French": France, not French Polynesia). Spellings the data lacks
("Kiev" for "Kyiv") are matched by the scorer's spelling test against the country's
name, capital and demonym (`country_core`), never its codes.
"""

from __future__ import annotations

from functools import lru_cache

from annotator.reconcile.names import fold

__all__ = ["country_core", "country_of", "is_place"]


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """(form -> country, country -> its name, capital and demonym), all folded."""
    from countryinfo import all_countries

    best: dict[str, tuple[int, str]] = {}
    core: dict[str, tuple[str, ...]] = {}
    for entry in all_countries():
        info = entry.info()
        country = str(info.get("name") or "")
        if not country:
            continue
        population = int(info.get("population") or 0)
        forms = [country, info.get("capital"), info.get("demonym"), *info.get("altSpellings", [])]
        for form in forms:
            if not isinstance(form, str) or not form.isalpha() or not form.isascii():
                continue  # several words, a hyphen, another script: not one name word
            key = fold(form)
            if len(key) < 2:
                continue
            held = best.get(key)
            if held is None or (population, country) > held:
                best[key] = (population, country)
        core[country] = tuple(
            fold(f) for f in forms[:3] if isinstance(f, str) and f.isalpha() and f.isascii()
        )
    return {key: country for key, (_, country) in best.items()}, core


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
