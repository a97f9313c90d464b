"""Three events written by a session that had not seen the clustering code, measured
only after they were finished: an earthquake, a match-fixing case, a ransomware attack
(fixtures/records_quake, records_matchfixing, records_ransomware). Offline, their
B-cubed F1 is what it is (asserted as a floor, so a change that lowers it is seen);
with a model judge that answers every uncertain pair right, every hand-written fixture
reaches 0.95: the band of pairs the judge is asked about covers the offline errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.core.models import ArticleAnnotation
from annotator.core.yamlio import load_yaml
from annotator.eval_clusters import b_cubed
from annotator.reconcile.summary import reconcile
from annotator.records.store import load_article_records

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ALL = [
    "records",
    "records_other_event",
    "records_takeover",
    "records_water",
    "records_shoal",
    "records_recall",
    "records_quake",
    "records_matchfixing",
    "records_ransomware",
]


def _gold(folder: Path) -> dict[str, str]:
    doc = load_yaml((folder / "gold_clusters.yaml").read_text(encoding="utf-8"))
    return {item: label for label, items in doc["clusters"].items() for item in items}


def _f1(folder: Path, records: list[ArticleAnnotation], **kwargs: object) -> float:
    summary = reconcile(records, **kwargs)  # type: ignore[arg-type]
    gold = _gold(folder)
    predicted = {f"{p.article}/{p.claim}": c.id for c in summary.claims for p in c.provenance}
    assert set(predicted) == set(gold)  # the gold file covers every record
    return b_cubed(predicted, gold)[2]


@pytest.mark.parametrize(
    ("name", "floor"),
    [
        # measured when first run: 0.887 (P 0.833, R 0.949), 0.795 (P 0.694, R 0.931),
        # 0.806 (P 0.756, R 0.863). Then: a figure also counts the word before it
        # ("magnitude 6.9" / "a magnitude 7.1 earthquake") and a dated prediction is not
        # a dated report ("will visit on Wednesday" / "toured on Wednesday"): quake 0.940;
        # two predicates about one subject are penalised: ransomware 0.828; a currency's
        # name is its sign ("4.5 million dollars" / "$2 million" differ): 0.823, as "lowered
        # to $2 million" then joins "the insurer paid the ransom" instead. Left: claims
        # that share their protagonists' names and a date ("paid to lose the March 8
        # match" / "won 4-0 on March 8") join
        ("records_quake", 0.935),
        ("records_matchfixing", 0.79),
        ("records_ransomware", 0.82),
    ],
)
def test_blind_fixtures_offline(name: str, floor: float) -> None:
    folder = FIXTURES / name
    assert _f1(folder, load_article_records(folder)) >= floor


@pytest.mark.parametrize("name", ALL)
def test_a_judge_that_answers_right_makes_every_fixture_95(name: str) -> None:
    folder = FIXTURES / name
    records = load_article_records(folder)
    gold = _gold(folder)
    labels: dict[str, set[str]] = {}
    for r in records:
        for c in r.claims:
            labels.setdefault(" ".join(c.statement.split()), set()).add(
                gold[f"{r.article.id}/{c.id}"]
            )
    asked: list[tuple[str, str]] = []

    def judge(a: str, b: str) -> bool:
        asked.append((a, b))
        return bool(labels[" ".join(a.split())] & labels[" ".join(b.split())])

    # measured: 0.951-1.0 with 20-173 questions; with the band only up to 0.4 over the
    # threshold, matchfixing stays at 0.891
    assert _f1(folder, records, judge=judge) >= 0.95
    assert 0 < len(asked) <= 200  # within the default --max-adjudications
