"""Entity canonicalisation: name variants merged, different people kept apart."""

from __future__ import annotations

from typing import Any

from annotator.core.models import ArticleAnnotation, Entity
from annotator.reconcile.entities import canonicalise_entities
from annotator.reconcile.names import fold, org_tokens, person_display


def record(
    aid: str, speakers: list[str], sources: list[Any] = (), claims: Any = ()
) -> ArticleAnnotation:  # type: ignore[assignment]
    """A record with speakers s1.. and sources (name, kind[, cited_via]) src1.."""
    srcs = []
    for i, src in enumerate(sources, 1):
        name, kind, *via = src
        srcs.append(
            {"id": f"src{i}", "name": name, "kind": kind, "cited_via": via[0] if via else None}
        )
    return ArticleAnnotation.model_validate(
        {
            "schema": "annotator/article-annotation/v1",
            "article": {"id": aid, "path": f"{aid}.txt", "sha256": "0" * 64},
            "annotation": {"backend": "rules"},
            "speakers": [{"id": f"s{i}", "name": n} for i, n in enumerate(speakers, 1)],
            "sources": srcs,
            "claims": [
                {"id": f"c{i}", "statement": "x", "quote": "x", "sources": list(chain)}
                for i, chain in enumerate(claims, 1)
            ],
        }
    )


def entity_with(entities: tuple[Entity, ...], alias: str) -> Entity:
    (found,) = [e for e in entities if alias in e.aliases]
    return found


def test_name_forms() -> None:
    assert person_display("Kremlin spokesman Dmitry Peskov") == ["Dmitry", "Peskov"]
    assert person_display("Ukrainian President Volodymyr Zelenskyy") == ["Volodymyr", "Zelenskyy"]
    assert person_display("Trump’s communications director Steven Cheung") == ["Steven", "Cheung"]
    assert person_display("Ludwig van Beethoven") == ["Ludwig", "van", "Beethoven"]
    assert fold("Zelenskyy") == fold("Zelensky") == fold("Zelenskiy")
    assert org_tokens("The Washington Post") == org_tokens("Washington Post")
    assert org_tokens("Russia's state-sponsored TASS news agency")[-1] == "tas"


def test_peskov_variants_are_one_person_across_articles() -> None:
    index = canonicalise_entities(
        [
            record("a", ["Kremlin spokesman Dmitry Peskov"]),
            record("b", ["Dmitry Peskov", "Peskov"]),
            record("c", ["Peskov"]),
        ]
    )
    peskov = entity_with(index.entities, "Peskov")
    assert peskov.name == "Dmitry Peskov"
    assert peskov.kind == "person"
    assert peskov.aliases == ["Dmitry Peskov", "Kremlin spokesman Dmitry Peskov", "Peskov"]
    assert peskov.articles == ["a", "b", "c"]
    assert len(index.entities) == 1
    assert index.lookup("c", "speaker", "s1") == peskov


def test_zelensky_spellings_merge() -> None:
    index = canonicalise_entities(
        [
            record("a", ["Volodymyr Zelensky"]),
            record("b", ["Ukrainian President Volodymyr Zelenskyy"]),
            record("c", ["Zelenskyy"]),
        ]
    )
    assert len(index.entities) == 1
    assert len(index.entities[0].aliases) == 3


def test_same_surname_different_people_stay_apart() -> None:
    index = canonicalise_entities(
        [
            record("a", ["Donald Trump", "Trump"]),
            record("b", ["Lara Trump", "Trump"]),
            record("c", ["Trump"]),
        ]
    )
    donald = entity_with(index.entities, "Donald Trump")
    lara = entity_with(index.entities, "Lara Trump")
    assert donald != lara
    # a bare "Trump" joins the one full name in its own article ...
    assert index.lookup("a", "speaker", "s2") == donald
    assert index.lookup("b", "speaker", "s2") == lara
    # ... and with no such evidence it stays its own entity
    bare = index.lookup("c", "speaker", "s1")
    assert bare not in (donald, lara)
    assert bare is not None and bare.aliases == ["Trump"] and bare.articles == ["c"]


def test_first_name_spellings_and_initials() -> None:
    index = canonicalise_entities(
        [record("a", ["Dmitry Peskov"]), record("b", ["Dmitri Peskov"]), record("c", ["D. Peskov"])]
    )
    assert len(index.entities) == 1
    index = canonicalise_entities([record("a", ["John Smith", "Jane Smith", "J. Smith"])])
    assert len(index.entities) == 3  # "J." could be either


def test_outlet_variants_merge() -> None:
    index = canonicalise_entities(
        [
            record("a", [], [("Washington Post", "news_outlet"), ("The Post", "news_outlet")]),
            record("b", [], [("WaPo", "news_outlet"), ("the daily", "news_outlet"),
                             ("NBC News", "news_outlet")],
                   claims=[["src1"], ["src2"], ["src1"]]),
            record("c", [], [("The Washington Post", "news_outlet"), ("WSJ", "news_outlet"),
                             ("The Wall Street Journal", "news_outlet")]),
        ]
    )  # fmt: skip
    post = entity_with(index.entities, "WaPo")
    assert post.name == "The Washington Post"
    assert set(post.aliases) == {
        "Washington Post",
        "The Post",
        "WaPo",
        "the daily",
        "The Washington Post",
    }
    assert post.articles == ["a", "b", "c"]
    assert entity_with(index.entities, "WSJ") == entity_with(
        index.entities, "The Wall Street Journal"
    )
    assert entity_with(index.entities, "NBC News") != post


def test_short_form_needs_one_candidate() -> None:
    index = canonicalise_entities(
        [
            record("a", [], [("The Washington Post", "news_outlet")]),
            record("b", [], [("The New York Post", "news_outlet")]),
            record("c", [], [("The Post", "news_outlet")]),
        ]
    )
    assert entity_with(index.entities, "The Post").aliases == ["The Post"]


def test_anonymous_sources_grouped_by_their_relay() -> None:
    index = canonicalise_entities(
        [
            record("a", [], [("The Washington Post", "news_outlet"),
                             ("two people familiar with the matter", "anonymous", "src1")]),
            record("b", [], [("WaPo", "news_outlet"), ("anonymous sources", "anonymous")],
                   claims=[["src1", "src2"]]),
            record("c", [], [("Sources close to the matter", "anonymous")]),
        ]
    )  # fmt: skip
    via_post = entity_with(index.entities, "anonymous sources")
    assert via_post.name == "anonymous sources (via The Washington Post)"
    assert via_post.kind == "anonymous"
    assert "two people familiar with the matter" in via_post.aliases
    alone = entity_with(index.entities, "Sources close to the matter")
    assert alone.name == "Sources close to the matter" and alone.articles == ["c"]


def test_speaker_kinds_and_stable_ids() -> None:
    recs = [
        record("a", ["the Kremlin", "Kremlin spokesman Dmitry Peskov"]),
        record("b", ["The Kremlin"], [("Kremlin", "government")]),
    ]
    index = canonicalise_entities(recs)
    kremlin = entity_with(index.entities, "the Kremlin")
    assert kremlin.kind == "organization"
    assert set(kremlin.aliases) == {"the Kremlin", "The Kremlin", "Kremlin"}
    assert entity_with(index.entities, "Kremlin spokesman Dmitry Peskov").kind == "person"
    assert [e.id for e in index.entities] == ["dmitry-peskov", "the-kremlin"]
    assert canonicalise_entities(list(reversed(recs))).entities == index.entities
