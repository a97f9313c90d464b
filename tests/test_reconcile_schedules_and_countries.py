"""A schedule is a prediction ("due to meet", "plans to restart"), like "will"; two
countries in one role are two claims however alike the rest of the wording is. Texts of
other events than the samples."""

from __future__ import annotations

import pytest

from annotator.reconcile.anchors import references
from annotator.reconcile.clustering import ClusterScorer, cluster_statements, statement_features
from annotator.reconcile.embeddings import BundledEmbedder
from annotator.reconcile.mood import predicts
from annotator.reconcile.places import join_places
from annotator.reconcile.words import split_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The ministers are due to meet in Lisbon next month", True),
        ("The airline is set to announce job cuts", True),
        ("The firm plans to restart production by June", True),
        ("The summit is scheduled to open on Monday", True),
        ("The unions will strike on Friday", True),
        ("The ministers met in Lisbon on Monday", False),
        ("The court set a date for the hearing", False),  # "set" without "to"
        ("The plan was rejected by parliament", False),
    ],
)
def test_a_schedule_is_a_prediction(text: str, expected: bool) -> None:
    assert predicts(split_words(text.lower())) is expected


def scorer(texts: list[str]) -> ClusterScorer:
    embedder = BundledEmbedder()
    written: dict[str, str] = {}
    feats = [statement_features(t, written) for t in texts]
    return ClusterScorer(feats, embedder.embed(texts), embedder, 0.4, written)


def groups(texts: list[str]) -> list[list[int]]:
    return [c.members for c in cluster_statements(texts)]


EVENT = [  # one event: a rail strike, its talks and the reactions abroad
    "Rail unions walked out over pay on Monday",
    "Train drivers began a strike over wages",
    "Unions and rail operators will hold talks next week",
    "The unions and the operators are due to meet for talks next week",
    "French rail unions also joined the strike",
    "Italian rail unions also joined the strike",
    "The strike halted most trains across the country",
    "Most rail services were cancelled during the walkout",
]


def test_a_schedule_and_a_will_of_one_meeting_are_one_claim() -> None:
    found = groups(EVENT)
    assert any({2, 3} <= set(g) for g in found)


def test_two_countries_in_one_role_are_two_claims() -> None:
    found = groups(EVENT)
    assert not any({4, 5} <= set(g) for g in found)
    # a capital and its demonym are one party: no clash
    same = groups(
        [
            "Madrid condemned the attack on the embassy",
            "The Spanish government condemned the embassy attack",
            "Lisbon condemned the attack on the embassy",
        ]
    )
    assert [0, 1] in same and not any({0, 2} <= set(g) or {1, 2} <= set(g) for g in same)


def test_a_country_of_several_words_is_one_name() -> None:
    """ "the United States" is the party "Washington" and "American" name (the gazetteer's
    capital is "Washington D.C."); "New Zealand" and "Wellington" likewise."""
    assert join_places("The United States and New Zealand said so") == (
        "The UnitedStates and NewZealand said so"
    )
    assert join_places("The valley of the Rhine") == "The valley of the Rhine"
    texts = [
        "The United States said its defence treaty with Norway covers the incident",
        "Washington reaffirmed that its defence pact with Oslo applies to the incident",
        "New Zealand sent a frigate to the area",
        "Wellington dispatched a navy frigate to the area",
        "Australia sent a frigate to the area",
    ]
    s = scorer(texts)
    assert not s.names_clash(0, 1) and not s.slots_clash(0, 1)
    assert not s.slots_clash(2, 3) and s.countries_clash(2, 4)
    assert any({0, 1} <= set(g) for g in groups(texts))


def test_before_and_after_one_event_are_two_claims() -> None:
    assert references("They met before the summit in Oslo") == (
        frozenset({"sumit"}),
        frozenset({"before"}),
    )
    assert references("Talks resumed ahead of the vote")[1] == {"before"}
    assert references("Talks resumed following the vote")[1] == {"after"}
    found = groups(
        [
            "The ministers met before the summit in Oslo",
            "The ministers met after the summit in Oslo",
            "The ministers met during the summit in Oslo",  # no side: joins either
            "The ministers held talks following the summit in Oslo",
            "Protesters blocked the road to the airport",
            "The airline cancelled forty flights",
        ]
    )
    assert not any({0, 1} <= set(g) for g in found)  # one claim before this change
    assert any({1, 3} <= set(g) for g in found)  # "after" and "following": one side
