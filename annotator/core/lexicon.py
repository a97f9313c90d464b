"""Shared word lists of news text: known outlets (names, aliases, web domains, kinds) and
nationality adjectives. One table each; the loader, the rules extractor and entity
matching derive what they need from them.

General lists of well-known outlets and nationalities, not tuned to any one article.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotator.core.models import SourceKind


@dataclass(frozen=True)
class Outlet:
    name: str  # canonical name, as sources are recorded
    kind: SourceKind
    aliases: tuple[str, ...] = ()  # lower-case other names ("wapo", "washington post")
    domains: tuple[str, ...] = ()  # web domains whose articles it publishes


OUTLET_TABLE: tuple[Outlet, ...] = (
    Outlet("Reuters", "news_agency", domains=("reuters.com",)),
    Outlet("Associated Press", "news_agency", ("associated press", "ap"), ("apnews.com",)),
    Outlet("AFP", "news_agency"),
    Outlet("Agence France-Presse", "news_agency"),
    Outlet("TASS", "news_agency", ("tass",), ("tass.com",)),
    Outlet("RIA Novosti", "news_agency"),
    Outlet("Interfax", "news_agency"),
    Outlet("Xinhua", "news_agency"),
    Outlet("Bloomberg News", "news_agency", ("bloomberg",)),
    Outlet("Ukrinform", "news_agency"),
    Outlet("UNIAN", "news_agency"),
    Outlet("Kyodo", "news_agency"),
    Outlet("Yonhap", "news_agency"),
    Outlet("ANSA", "news_agency"),
    Outlet("Anadolu", "news_agency"),
    Outlet(
        "The Washington Post",
        "news_outlet",
        ("washington post", "wapo"),
        ("washingtonpost.com",),
    ),
    Outlet("The New York Times", "news_outlet", ("new york times", "nyt"), ("nytimes.com",)),
    Outlet("The Wall Street Journal", "news_outlet", ("wall street journal", "wsj")),
    Outlet("The Guardian", "news_outlet", ("guardian",), ("theguardian.com",)),
    Outlet("Financial Times", "news_outlet", ("ft",)),
    Outlet("The Moscow Times", "news_outlet", ("moscow times",), ("themoscowtimes.com",)),
    Outlet("The Epoch Times", "news_outlet", ("epoch times",), ("theepochtimes.com",)),
    Outlet("Breitbart News", "news_outlet", ("breitbart",), ("breitbart.com",)),
    Outlet("BBC", "news_outlet", domains=("bbc.co.uk", "bbc.com")),
    Outlet("CNN", "news_outlet"),
    Outlet("NBC News", "news_outlet"),
    Outlet("CBS News", "news_outlet"),
    Outlet("ABC News", "news_outlet"),
    Outlet("Fox News", "news_outlet"),
    Outlet("NPR", "news_outlet"),
    Outlet("Politico", "news_outlet"),
    Outlet("Axios", "news_outlet"),
    Outlet("RT", "news_outlet", domains=("rt.com",)),
    Outlet("Al Jazeera", "news_outlet"),
    Outlet("Sky News", "news_outlet"),
    Outlet("The Telegraph", "news_outlet", ("telegraph",)),
    Outlet("The Times", "news_outlet"),
    Outlet("The Independent", "news_outlet", ("independent",)),
    Outlet("Daily Mail", "news_outlet"),
    Outlet("Newsweek", "news_outlet"),
    Outlet("Kyiv Independent", "news_outlet"),
    Outlet("Kommersant", "news_outlet"),
    Outlet("Izvestia", "news_outlet"),
    Outlet("X", "social_media"),
    Outlet("Twitter", "social_media"),
    Outlet("Telegram", "social_media"),
    Outlet("Facebook", "social_media"),
    Outlet("Truth Social", "social_media"),
    Outlet("Instagram", "social_media"),
)
# Derived views: canonical name -> kind; alias -> canonical name; domain -> canonical name.
OUTLETS: dict[str, SourceKind] = {o.name: o.kind for o in OUTLET_TABLE}
OUTLET_ALIASES: dict[str, str] = {a: o.name for o in OUTLET_TABLE for a in o.aliases}
OUTLET_DOMAINS: dict[str, str] = {d: o.name for o in OUTLET_TABLE for d in o.domains}

# Nationality adjectives and the country each stands for ("Ukrainian" ~ "Ukraine").
DEMONYMS: dict[str, str] = {
    "ukrainian": "ukraine", "russian": "russia", "american": "us", "usa": "us",
    "british": "uk", "chinese": "china", "french": "france", "german": "germany",
    "israeli": "israel", "iranian": "iran", "turkish": "turkey", "polish": "poland",
    "indian": "india", "japanese": "japan", "italian": "italy", "spanish": "spain",
}  # fmt: skip

# Lower-case particles inside personal names ("Marieke de Vries", "Ursula von der Leyen").
NAME_PARTICLES: frozenset[str] = frozenset((
    "de", "da", "di", "du", "del", "della", "der", "den", "van", "von", "bin", "ibn", "al",
    "el", "la", "le", "ter", "dos", "das",
))  # fmt: skip
