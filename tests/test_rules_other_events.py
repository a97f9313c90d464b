"""The rules extractor on short articles about other events (fixtures/articles_other/):
a factory fire, a court ruling, a football transfer rumour, an election dispute.

The expectations were written from reading each text, before running the extractor:
for every attributed or hedged statement, who says it (speaker), through whom (source
chain, nearest first) and with which stance. None of these texts shares vocabulary with
the five sample articles, so passing here means the attribution rules are general.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.extract.rules.extract import extract_rules
from annotator.extract.schema import ExtractedClaim, Extraction
from annotator.ground import ground_quote
from annotator.load.articles import Article, load_articles
from tests.conftest import ROOT

OTHER = ROOT / "fixtures" / "articles_other"


def _extractions() -> dict[str, tuple[Article, Extraction]]:
    loaded = load_articles(OTHER)
    assert not loaded.errors
    return {a.id: (a, extract_rules(a)) for a in loaded.articles}


EXTRACTED = _extractions()


def speaker_name(ex: Extraction, claim: ExtractedClaim) -> str | None:
    return next((s.name for s in ex.speakers if s.id == claim.speaker), None)


def source_chain(ex: Extraction, claim: ExtractedClaim) -> list[tuple[str, str]]:
    by_id = {s.id: (s.name, s.kind) for s in ex.sources}
    return [by_id[i] for i in claim.sources]


def claim_quoting(article_id: str, words: str) -> tuple[Extraction, ExtractedClaim]:
    _, ex = EXTRACTED[article_id]
    found = [c for c in ex.claims if words in c.quote]
    assert found, f"no claim quotes {words!r} in {article_id}"
    return ex, found[0]


# (article, words of the quote, speaker, source chain, stance, affirmative statement)
Case = tuple[str, str, str | None, list[tuple[str, str]], str, str | None]
CASES: list[Case | object] = [
    # factory_fire.md: an AP article (outlet read from its url), so "told The Associated
    # Press" is the outlet itself and not a source.
    ("factory_fire", "fire started in a storage hall", "Marek Zielinski", [], "confirm",
     "The fire started in a storage hall shortly after 6 a.m. and was under control by noon"),
    ("factory_fire", "There is no risk of a toxic cloud", "Marek Zielinski", [], "deny",
     "There is a risk of a toxic cloud reaching the city"),
    ("factory_fire", "all 140 workers", "Polchem", [], "confirm",
     "All 140 workers on the morning shift had been accounted for"),
    ("factory_fire", "taken to hospital with burns", None, [("TVP3 Lodz", "news_outlet")],
     "confirm", "Two firefighters were taken to hospital with burns"),
    ("factory_fire", "failed a safety inspection", "Ewa Nowak", [], "deny",
     "The plant had failed a safety inspection last year"),
    ("factory_fire", "Reports that we failed an inspection are false", "Ewa Nowak", [], "deny",
     None),
    ("factory_fire", "reportedly heard several explosions", None, [], "unverified",
     "Residents heard several explosions before the smoke appeared"),
    # court_ruling.txt
    ("court_ruling", "ordered budget airline SkyLink", "Court spokesman", [], "confirm", None),
    ("court_ruling", "extraordinary circumstance", "Marieke de Vries", [], "deny",
     "The strike was an extraordinary circumstance that would free the airline from paying"),
    ("court_ruling", "the company would appeal", "Paul Verhoeven", [], "confirm",
     "The company would appeal"),
    ("court_ruling", "misread European law", "Paul Verhoeven", [("Reuters", "news_agency")],
     "confirm", None),
    pytest.param(
        "court_ruling", "the ruling would help", "Stichting Vliegrecht", [], "confirm", None,
        marks=pytest.mark.xfail(
            strict=True,
            reason="a descriptor before a name ('Consumer group X, which ..., said') is not "
            "parsed as a subject",
        ),
    ),
    pytest.param(
        "court_ruling", "cancelled the flights to cut costs", "SkyLink", [], "deny", None,
        marks=pytest.mark.xfail(
            strict=True,
            reason="'the airline' is not resolved to the organisation named earlier "
            "(no coreference of common-noun descriptions)",
        ),
    ),
    ("court_ruling", "internal emails showed", None, [("De Volkskrant", "news_outlet")],
     "confirm", None),
    ("court_ruling", "dismissed the report as speculation", "Spokesperson", [], "deny", None),
    # transfer_rumour.txt
    ("transfer_rumour", "denied reports that they agreed", "Bayern Munich", [], "deny",
     "They agreed a 60 million euro fee with Ajax for midfielder Kenneth Taylor"),
    ("transfer_rumour", "reached an agreement in principle", None, [("Bild", "news_outlet")],
     "confirm", None),
    ("transfer_rumour", "There is no agreement with Ajax", "Max Eberl",
     [("Sky Sports", "news_outlet")], "deny", None),
    ("transfer_rumour", "fully focused", "Francesco Farioli", [], "confirm",
     "Taylor was fully focused on the league title race"),
    ("transfer_rumour", "reportedly met Bayern officials", None,
     [("The Athletic", "news_outlet"), ("people close to the negotiations", "anonymous")],
     "unverified", None),
    ("transfer_rumour", "offer for a second Ajax player", "Max Eberl", [], "deny",
     "The club had made an offer for a second Ajax player"),
    # election_dispute.txt
    ("election_dispute", "the count was rigged", "Grace Mwale", [], "confirm",
     "The count was rigged"),
    ("election_dispute", "turned away from 40 polling stations", "Grace Mwale", [], "confirm",
     "Her observers had been turned away from 40 polling stations"),
    ("election_dispute", "These results are fabricated", "Grace Mwale",
     [("AFP", "news_agency")], "deny", None),
    ("election_dispute", "rejected the accusations", "Joseph Phiri", [], "deny", None),
    ("election_dispute", "observers from all parties", "Joseph Phiri", [], "confirm",
     "Observers from all parties had been present at every count"),
    ("election_dispute", "irregularities were not large enough", None,
     [("Financial Times", "news_outlet"), ("Western diplomats", "anonymous")], "deny",
     "The irregularities were large enough to change the outcome"),
    ("election_dispute", "allegedly used state vehicles", None, [], "unverified",
     "Banda used state vehicles during his campaign"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("article_id", "words", "speaker", "sources", "stance", "statement"), CASES
)
def test_attributed_statement(
    article_id: str,
    words: str,
    speaker: str | None,
    sources: list[tuple[str, str]],
    stance: str,
    statement: str | None,
) -> None:
    ex, claim = claim_quoting(article_id, words)
    assert speaker_name(ex, claim) == speaker
    assert source_chain(ex, claim) == sources
    assert claim.stance == stance
    if statement is not None:
        assert claim.statement == statement


def test_roles_and_affiliations_come_from_the_title() -> None:
    _, ex = EXTRACTED["factory_fire"]
    nowak = next(s for s in ex.speakers if s.name == "Ewa Nowak")  # "A Polchem spokeswoman, ..."
    assert (nowak.role, nowak.affiliation) == ("spokeswoman", "Polchem")
    _, ex = EXTRACTED["transfer_rumour"]
    eberl = next(s for s in ex.speakers if s.name == "Max Eberl")
    assert (eberl.role, eberl.affiliation) == ("sporting director", "Bayern")
    _, ex = EXTRACTED["court_ruling"]
    ceo = next(s for s in ex.speakers if s.name == "Paul Verhoeven")
    assert (ceo.role, ceo.affiliation) == ("chief executive", "SkyLink")


def test_the_outlets_own_name_is_never_a_source() -> None:
    art, ex = EXTRACTED["factory_fire"]
    assert art.outlet == "Associated Press"  # from the apnews.com url
    assert "told The Associated Press" in art.text
    assert all(s.name != "Associated Press" for s in ex.sources)


def test_every_quote_is_an_exact_span_and_every_statement_has_words() -> None:
    assert set(EXTRACTED) == {p.stem for p in Path(OTHER).iterdir()}
    for art, ex in EXTRACTED.values():
        assert len(ex.claims) >= 5, art.id
        for claim in ex.claims:
            assert ground_quote(art.text, claim.quote).grounding == "exact"
            assert len(claim.statement.split()) >= 3
            assert " not " not in f" {claim.statement} " or claim.stance == "unverified"


@pytest.mark.xfail(
    strict=True,
    reason="'the report' takes the last denial in the window as its antecedent (here the "
    "judge's ruling), not the last thing a cited outlet reported; preferring the outlet's "
    "report breaks 'Peskov altogether denied the reports' in the samples",
)
def test_the_report_that_is_dismissed_is_the_newspapers() -> None:
    _, claim = claim_quoting("court_ruling", "dismissed the report as speculation")
    _, reported = claim_quoting("court_ruling", "internal emails showed")
    assert claim.statement == reported.statement
